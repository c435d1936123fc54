import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.services.s3.S3Client;

/** The backup chosen by a {@link BackupSelection}, and its manifest. */
record BackupChoice(BackupListing.Entry entry, Manifest manifest, VerifyRecord drill) {
    BackupKey key() { return entry.key(); }

    String describe() {
        String drilled = drill == null ? "never drilled" : drill.vouchesFor(manifest) ? "drill passed " + drill.finishedAt() : "last drill FAILED " + drill.finishedAt();
        return key().name() + " started " + Iso.iso(key().startedAt()) + " (" + manifest.dumpKey() + ", " + Progress.size(manifest.sizeBytes())
                + (manifest.encryption() == null ? "" : ", encrypted (" + manifest.encryption().scheme() + ")")
                + ", pg_dump " + manifest.pgDumpVersion() + ", from " + manifest.database() + " on " + manifest.host() + "; " + drilled + ")";
    }

    Map<String, Object> summary() {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("name", key().name());
        b.put("startedAt", Iso.iso(key().startedAt()));
        b.put("dumpKey", manifest.dumpKey());
        b.put("format", manifest.format());
        b.put("manifestKey", key().manifestKey());
        b.put("sizeBytes", manifest.sizeBytes());
        b.put("sha256", manifest.sha256());
        b.put("encryption", manifest.encryption() == null ? null : manifest.encryption().scheme());
        b.put("pgDumpVersion", manifest.pgDumpVersion());
        b.put("database", manifest.database());
        b.put("host", manifest.host());
        return b;
    }

    /**
     * The backup a selection means, among complete backups only ({@link BackupStatus}): the newest, the newest at or
     * before --at, or exactly --key (which must be complete). Its manifest is read again in full and judged again; the
     * dump read is the one next to the manifest, whatever prefix or bucket the manifest was written under (copies).
     */
    static BackupChoice select(S3Client s3, String bucket, String prefix, BackupSelection sel, PrintWriter err) {
        String where = "s3://" + bucket + "/" + prefix + "/";
        String name = sel.name == null ? null : BackupKey.nameOption(sel.name);
        BackupListing.Entry chosen;
        if (sel.key != null) {
            if (sel.at != null) throw Failure.usage("--key and --at both choose a backup: give only one of them");
            BackupKey wanted = BackupKey.parse(prefix, sel.key.strip()).map(BackupKey.Parsed::backup).orElseThrow(() -> Failure.usage(
                    "--key '" + sel.key + "' is not a backup key under " + where + ": expected " + prefix + "/NAME/NAME_2026-11-23T02-00-00Z.dump"
                            + " (or .manifest.json), as 'restore list' shows; check --prefix"));
            if (name != null && !name.equals(wanted.name())) throw Failure.usage("--key is a backup of '" + wanted.name() + "' but --name says '" + name + "'");
            List<BackupListing.Entry> entries = BackupListing.list(s3, bucket, prefix, wanted.name());
            chosen = entries.stream().filter(e -> e.key().equals(wanted)).findFirst().orElse(null);
            if (chosen == null) {
                throw new Failure(Exit.FAILED, "no backup " + wanted.base() + " in " + where + "; " + nearest(entries, wanted.startedAt()));
            }
            if (chosen.incomplete()) {
                throw new Failure(Exit.FAILED, "backup " + wanted.base() + " has no manifest: it is incomplete (a failed or unfinished backup) and is never restored; "
                        + nearest(entries, wanted.startedAt()));
            }
            if (!chosen.complete()) throw notComplete(chosen, nearest(entries, wanted.startedAt()));
        } else {
            List<BackupListing.Entry> all = BackupListing.list(s3, bucket, prefix, name);
            List<BackupListing.Entry> complete = all.stream().filter(BackupListing.Entry::complete).toList();
            long incomplete = all.stream().filter(BackupListing.Entry::incomplete).count();
            List<BackupListing.Entry> broken = all.stream().filter(e -> !e.complete() && e.status().hasManifest()).toList();
            String incompleteNote = incomplete > 0 ? " (" + incomplete + " incomplete backup" + (incomplete == 1 ? "" : "s") + " without a manifest: not restorable)" : "";
            if (!broken.isEmpty()) incompleteNote += " (" + broken.size() + " not complete: restore list shows why)";
            if (complete.isEmpty()) {
                if (!broken.isEmpty() && (name != null || names(broken).size() == 1)) {
                    // Only backups that are not complete: say why the newest is not, with its exit code.
                    throw notComplete(broken.get(broken.size() - 1), "there is no complete backup of '" + broken.get(0).key().name() + "' (restore list shows why)");
                }
                if (name != null) {
                    Set<String> names = names(BackupListing.list(s3, bucket, prefix, null));
                    throw new Failure(Exit.FAILED, "no backups named '" + name + "' under " + where + incompleteNote
                            + (names.isEmpty() ? "; check --bucket and --prefix" : "; names there: " + String.join(", ", names)));
                }
                throw new Failure(Exit.FAILED, "no backups under " + where + incompleteNote + "; check --bucket and --prefix");
            }
            Set<String> names = names(complete);
            if (names.size() > 1) {
                throw Failure.usage("several databases are backed up under " + where + ": " + String.join(", ", names) + ": choose one with --name");
            }
            if (sel.at != null) {
                Instant at = BackupSelection.parseAt(sel.at, Instant.now());
                chosen = null;
                for (BackupListing.Entry e : complete) if (!e.key().startedAt().isAfter(at)) chosen = e;
                if (chosen == null) {
                    throw new Failure(Exit.FAILED, "no backup of '" + complete.get(0).key().name() + "' at or before " + Iso.iso(at)
                            + "; " + nearest(complete, at));
                }
            } else {
                chosen = complete.get(complete.size() - 1);
            }
            final BackupListing.Entry picked = chosen;
            if (sel.at == null) {
                // A newer manifest of a format this version cannot read is not damage: restoring an older backup instead would lose data silently.
                broken.stream().filter(e -> e.status().state() == BackupStatus.State.NEWER_FORMAT && e.key().startedAt().isAfter(picked.key().startedAt()))
                        .reduce((a, b) -> b).ifPresent(newer -> { throw notComplete(newer, "choose an older backup with --at or --key"); });
                long newerIncomplete = all.stream().filter(e -> e.incomplete() && e.key().startedAt().isAfter(picked.key().startedAt())).count();
                if (newerIncomplete > 0) {
                    err.println("note: " + newerIncomplete + " newer backup" + (newerIncomplete == 1 ? " is" : "s are") + " incomplete (no manifest) and skipped");
                }
                for (BackupListing.Entry e : broken) {
                    if (e.key().startedAt().isAfter(picked.key().startedAt()) && e.key().name().equals(picked.key().name())) {
                        err.println("note: the newer backup " + e.key().base() + " is not complete and skipped: " + e.status().describe());
                    }
                }
            }
        }
        // Read the chosen manifest in full (the listing skipped its table statistics) and judge it again: it is
        // the one restored from, and objects can change between the listing and now.
        BackupStatus status = BackupListing.check(s3, bucket, chosen.key(), chosen.dump(), chosen.manifest(), true, Instant.now());
        if (!status.complete()) throw notComplete(new BackupListing.Entry(chosen.key(), chosen.dump(), chosen.manifest(), chosen.verify(), status), null);
        chosen = new BackupListing.Entry(chosen.key(), chosen.dump(), chosen.manifest(), chosen.verify(), status);
        Manifest manifest = status.manifest().relocated(status.manifest().directory() ? chosen.key().objectsPrefix() : chosen.key().dumpKey());
        if (!manifest.dumpKey().equals(status.manifest().dumpKey())) {
            err.println("note: " + chosen.key().base() + " was written as " + status.manifest().dumpKey() + "; reading its copy " + chosen.key().dumpKey());
        }
        VerifyRecord drill = chosen.verified() ? VerifyRecord.read(s3, bucket, chosen.key()) : null;
        return new BackupChoice(chosen, manifest, drill);
    }

    /** A backup asked for (or the only kind there is) that is not complete: why, with its state's exit code. */
    static Failure notComplete(BackupListing.Entry e, String hint) {
        return new Failure(e.status().state().exitCode, "backup " + e.key().base() + " is not complete: " + e.status().describe()
                + "; it is never restored" + (hint == null ? "" : "; " + hint));
    }

    /** The listing already tells the stored size: a dump of the wrong size fails here, before any download. */
    void checkListedSize() {
        Long stored = entry.dump().size();
        if (stored != null && stored != manifest.sizeBytes()) {
            throw new Failure(Exit.DATA_INVALID, "backup " + key().base() + ": the stored dump has " + stored + " bytes, the manifest says "
                    + manifest.sizeBytes() + ": the dump is damaged; choose another backup (restore list)");
        }
    }

    private static Set<String> names(List<BackupListing.Entry> entries) {
        Set<String> names = new TreeSet<>();
        for (BackupListing.Entry e : entries) names.add(e.key().name());
        return names;
    }

    /** "nearest complete backups of NAME: T1, T2 (restore list --name NAME shows all)". */
    static String nearest(List<BackupListing.Entry> entries, Instant around) {
        List<BackupListing.Entry> complete = new ArrayList<>(entries.stream().filter(BackupListing.Entry::complete).toList());
        if (complete.isEmpty()) return "there are no complete backups of that name";
        complete.sort(Comparator.comparing((BackupListing.Entry e) -> Duration.between(e.key().startedAt(), around).abs()));
        List<String> times = new ArrayList<>();
        for (BackupListing.Entry e : complete.subList(0, Math.min(3, complete.size()))) times.add(Iso.iso(e.key().startedAt()));
        times.sort(null);
        String name = complete.get(0).key().name();
        return "nearest complete backups of '" + name + "': " + String.join(", ", times) + " (restore list --name " + name + " shows all)";
    }
}
