import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One leg of the fan-out ({@code backup --fleet-plan FILE --shard N}): the names of shard N of a plan file
 * ({@link FleetPlan#readLeg}), each found where the plan says: in the databases file, by its name, or through the Neon
 * API, whose connection URI (with the owner role's password) is fetched just before that database's dump and held in
 * memory only. A database that cannot be found (no longer in the file, its URI refused) fails alone, like any other
 * database of a fleet run: the rest of the shard is backed up.
 */
final class FleetLeg {
    private final Map<String, NeonFleet.Member> neon;
    private final NeonApi api;
    private final Map<String, BackupTarget> fromFile;
    private final List<String> names;

    private FleetLeg(List<String> names, Map<String, NeonFleet.Member> neon, NeonApi api, Map<String, BackupTarget> fromFile) {
        this.names = names;
        this.neon = neon;
        this.api = api;
        this.fromFile = fromFile;
    }

    /** Shard {@code shard} of {@code planFile}; a Neon plan needs NEON_API_KEY in {@code env}, a file plan its {@code databasesFile}. */
    static FleetLeg open(Path planFile, int shard, Path databasesFile, Map<String, String> env, Consumer<String> warn) throws IOException {
        if (!Files.isReadable(planFile) || Files.isDirectory(planFile)) throw Failure.usage("cannot read the fleet plan " + planFile + ": give the file backup plan wrote");
        FleetPlan.Leg leg = FleetPlan.readLeg(Files.readAllBytes(planFile), shard);
        if (leg.databases().isEmpty()) throw Failure.usage("shard " + shard + " of " + planFile + " has no database");
        if (!leg.sources().isEmpty()) {
            if (databasesFile != null) throw Failure.usage("this plan was made from the Neon API: drop --databases-file (the leg asks Neon, with NEON_API_KEY)");
            Map<String, NeonFleet.Member> members = new LinkedHashMap<>();
            for (String name : leg.databases()) {
                Map<String, String> id = leg.sources().get(name);
                if (id == null) throw Failure.usage("the fleet plan has no Neon ids for " + name + ": make the plan again");
                members.put(name, NeonFleet.Member.fromIdentity(name, id));
            }
            return new FleetLeg(leg.databases(), members, NeonApi.fromEnvironment(env, NeonApi.Policy.standard(), warn), Map.of());
        }
        if (databasesFile == null) throw Failure.usage("this plan was made from a databases file: give the same --databases-file, the leg looks its names up in it");
        Map<String, BackupTarget> byName = new LinkedHashMap<>();
        for (BackupTarget t : BackupTarget.named(FleetFile.read(databasesFile, env), null)) byName.put(t.name(), t);
        return new FleetLeg(leg.databases(), Map.of(), null, byName);
    }

    /**
     * The shard's databases, in the plan's order. A Neon database's connection here has no password and a host that
     * names its project: the real one is fetched by {@link #backup} just before its dump.
     */
    List<BackupTarget> targets() {
        List<BackupTarget> out = new ArrayList<>();
        for (String name : names) {
            NeonFleet.Member m = neon.get(name);
            if (m != null) {
                out.add(new BackupTarget(name, ConnInfo.parse("postgresql://" + ConnInfo.encode(m.role()) + "@" + m.projectId() + ".neon/" + ConnInfo.encode(m.database()))));
            } else if (fromFile.containsKey(name)) {
                out.add(fromFile.get(name));
            } else {
                out.add(new BackupTarget(name, ConnInfo.parse("postgresql://missing/" + ConnInfo.encode(name))));
            }
        }
        return out;
    }

    /** Backs up one database of the shard; never throws (a database that cannot be found is a failed result). */
    BackupResult backup(BackupTarget t, DatabaseBackup backup) {
        Stopwatch clock = Stopwatch.start();
        NeonFleet.Member m = neon.get(t.name());
        if (m == null && !fromFile.containsKey(t.name())) {
            return failed(t, clock, Failure.usage(t.name() + " is in the plan but not in the databases file: make the plan again from the same file"));
        }
        if (m == null) return backup.backup(t);
        ConnInfo conn;
        try {
            conn = NeonFleet.connect(api, m);
        } catch (RuntimeException e) {
            Failure f = Errors.classify(e);
            return failed(t, clock, new Failure(f.exitCode, "could not get its connection URI from the Neon API: " + f.getMessage(), e));
        }
        return backup.backup(new BackupTarget(t.name(), conn));
    }

    private static BackupResult failed(BackupTarget t, Stopwatch clock, Failure f) {
        return new BackupResult(t.name(), t.conn().database(), t.conn().host(), "failed", null, null, null, null,
                clock.seconds(), null, null, null, null, f.getMessage(), f.exitCode);
    }
}
