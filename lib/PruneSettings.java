import java.time.Duration;
import java.time.ZoneId;

/** Everything that decides prune's plan, checked (prune's options). {@code maxAge} is null when not given. */
record PruneSettings(RetentionPolicy policy, ZoneId zone, int minKeep, Duration maxAge, boolean requireVerified, Duration grace) {}
