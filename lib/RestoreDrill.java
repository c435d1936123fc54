import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * One drill: download, verify, restore into a scratch database, compare, drop. Collects the verdict
 * ({@link DrillVerdict}): what it finds wrong with the backup's data, or what the scratch server lacks to test it.
 * What is neither (S3, the network, a backup that vanished) is thrown and leaves no verdict.
 */
final class RestoreDrill {
    final Manifest manifest;
    final PgTools.Tool psql;
    final PgTools.Tool pgRestore;
    final ConnInfo server;
    final PgTools.ServerVersion serverVersion;
    final VerifyRecord.RowTolerance tolerance;
    final PrintWriter err;
    final List<String> reasons = new ArrayList<>();
    final List<String> untested = new ArrayList<>();
    final Map<String, Double> durations = new LinkedHashMap<>();
    final List<VerifyRecord.TableCheck> tables = new ArrayList<>();
    VerifyRecord.Coverage coverage;
    Integer tocFound;
    int failureCode = Exit.OK;
    String scratchName;

    RestoreDrill(BackupChoice chosen, PgTools.Tool psql, PgTools.Tool pgRestore, ConnInfo server, PgTools.ServerVersion serverVersion,
             VerifyRecord.RowTolerance tolerance, PrintWriter err) {
        this.manifest = chosen.manifest();
        this.psql = psql;
        this.pgRestore = pgRestore;
        this.server = server;
        this.serverVersion = serverVersion;
        this.tolerance = tolerance;
        this.err = err;
    }

    /**
     * A record is written only next to the backup that was drilled: if prune (or a person) deleted it while the drill
     * ran, there is nothing to vouch for or against, and a record would be left behind on its own.
     */
    static void checkStillThere(S3Client s3, String bucket, BackupChoice chosen) {
        // A directory-format backup: its toc.dat stands for its objects (each was checked by the download).
        String dump = chosen.manifest().directory() ? chosen.manifest().dumpKey() + "toc.dat" : chosen.manifest().dumpKey();
        for (String key : List.of(chosen.key().manifestKey(), dump)) {
            try {
                s3.headObject(b -> b.bucket(bucket).key(key));
            } catch (NoSuchKeyException e) {
                throw new Failure(Exit.FAILED, "backup " + chosen.key().base() + " was deleted while the drill ran (" + key
                        + " is gone; prune?): no verdict, nothing recorded; drill a backup that exists (restore list)");
            } catch (RuntimeException e) {
                throw Errors.classify(e);
            }
        }
    }

    /** Something wrong with the backup's data (65) or its restore (1). */
    private void fail(int code, String reason) {
        reasons.add(reason);
        if (failureCode == Exit.OK || (code == Exit.DATA_INVALID && failureCode != Exit.DATA_INVALID)) failureCode = code;
    }

    /** The scratch server lacks something this backup needs: the drill cannot test it. */
    private void cannotTest(String reason) { untested.add(reason); }

    /** Damage found is the verdict whatever else happened; else what the server lacked; else passed. */
    DrillVerdict verdict() {
        if (!reasons.isEmpty()) return DrillVerdict.damaged(failureCode, reasons);
        if (!untested.isEmpty()) return DrillVerdict.untested(untested);
        return DrillVerdict.passed();
    }

    /** A backup that does not decrypt with the drill's key fails the drill: the key you hold cannot restore it. */
    void execute(S3Client s3, String bucket, Path file, int jobs, Age.Identities identities) throws Exception {
        String older = ScratchServer.olderThanBackup(serverVersion.major(), manifest.serverVersion());
        if (older != null) {
            cannotTest(older); // known before any download
            return;
        }
        if (manifest.directory()) {
            // backup --parallel: toc.dat checked into a directory next to the temp file; the scratch database is thrown
            // away whatever happens, so the data files are restored as they arrive, each checked first (PipelinedRestore).
            PipelinedRestore pipe;
            long t0 = System.nanoTime();
            try {
                pipe = PipelinedRestore.prepare(s3, bucket, manifest, identities, pgRestore, new PgRestoreRun.Options(false, jobs, false, true, true),
                        file, "drill", err);
            } catch (Failure f) {
                if (f.exitCode != Exit.DATA_INVALID) throw new Failure(f.exitCode, f.getMessage() + "; nothing recorded, the last drill record stands", f);
                durations.put("download", seconds(t0));
                fail(Exit.DATA_INVALID, f.getMessage());
                return;
            }
            try (pipe) {
                durations.put("download", seconds(t0)); // toc.dat; the data files download during "restore"
                restoreAndCompare(pipe.dir(), jobs, pipe);
            }
            return;
        }
        long t0 = System.nanoTime();
        try {
            Failure damaged = download(s3, bucket, file, identities);
            if (damaged != null) {
                fail(Exit.DATA_INVALID, damaged.getMessage());
                return;
            }
        } finally {
            durations.put("download", seconds(t0));
        }
        restoreAndCompare(file, jobs, null);
    }

    /**
     * The checked archive ({@code file}, or a directory-format archive's directory) listed, restored into a scratch database
     * (by {@code pipe} when not null) and compared.
     */
    private void restoreAndCompare(Path file, int jobs, PipelinedRestore pipe) throws Exception {
        TocListing listing;
        try {
            listing = PgRestoreRun.listFile(pgRestore, file);
        } catch (Failure f) {
            if (f.exitCode != Exit.DATA_INVALID) throw f; // pg_restore could not run: no verdict
            fail(Exit.DATA_INVALID, f.getMessage());
            return;
        }
        tocFound = listing.entries();
        if (manifest.tocEntries() != null && tocFound.intValue() != manifest.tocEntries()) {
            fail(Exit.DATA_INVALID, "the archive lists " + tocFound + " TOC entries, the manifest recorded " + manifest.tocEntries());
        }
        List<String> missing = ScratchServer.missingExtensions(psql, server, ScratchServer.extensions(listing.lines()));
        if (!missing.isEmpty()) {
            cannotTest(ScratchServer.lacksExtensions(missing, imageMajor()));
            return;
        }

        scratchName = "pgdump_s3_drill_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        ConnInfo scratch = server.withDatabase(scratchName);
        PgTools.query(psql, server, "create database " + UserTables.quoted(scratchName) + " template template0");
        err.println("drill: created scratch database \"" + scratchName + "\" on " + server.host());
        // Materialized views over FORCE RLS tables need --enable-row-security (lib/RowSecurity). A drill role subject to
        // row-level security owns every restored table (--no-owner), and FORCE ROW LEVEL SECURITY would hide rows from its
        // counts: it is lifted in the scratch copy before they are counted.
        boolean rowSecurity = RowSecurity.neededInListing(listing.lines());
        if (rowSecurity) err.println("drill: " + RowSecurity.WHY);
        String subject = RowSecurity.subjectRole(psql, server);
        try {
            long t1 = System.nanoTime();
            try {
                if (pipe != null) pipe.rowSecurity(rowSecurity).restore(scratch, null);
                else PgRestoreRun.run(pgRestore, scratch, new PgRestoreRun.Options(false, jobs, jobs == 1, true, true, rowSecurity), file, err);
            } catch (Failure f) {
                // Unreachable or refused: the drill could not test the backup; that is not a verdict on it.
                if (f.exitCode == Exit.UNAVAILABLE || f.exitCode == Exit.NO_PERMISSION || f.exitCode == Exit.CONFIG) {
                    throw pipe == null ? f : new Failure(f.exitCode, f.getMessage() + "; nothing recorded, the last drill record stands", f);
                }
                if (pipe != null && f.exitCode == Exit.DATA_INVALID) { // a data file that differs from its manifest, met on the way
                    fail(Exit.DATA_INVALID, f.getMessage());
                    return;
                }
                String lacks = ScratchServer.lackIn(f.getMessage(), imageMajor());
                if (lacks != null) cannotTest(lacks);
                else fail(Exit.FAILED, "the backup does not restore: " + f.getMessage());
                return;
            } finally {
                durations.put("restore", seconds(t1));
            }
            long t2 = System.nanoTime();
            if (subject != null) PgTools.query(psql, scratch, NO_FORCE_RLS);
            compareTables(scratch, listing);
            durations.put("compare", seconds(t2));
        } finally {
            if (!RestoreTarget.dropByName(psql, server, scratchName)) {
                err.println("drill: WARNING: could not drop the scratch database \"" + scratchName + "\" on " + server.host() + ": drop it yourself");
            } else {
                err.println("drill: dropped scratch database \"" + scratchName + "\"");
            }
        }
    }

    /**
     * Downloads the dump into {@code file}: null when it matches its manifest, else the verdict on the stored data.
     * A 65 that the download itself raised (the object's length or its absence, as one response told it) is checked
     * against S3's own view of the object before it becomes a verdict: gone → it vanished after listing (thrown, 1);
     * listed with the manifest's size → S3 or the network misbehaved (thrown, 69); another size → the stored dump
     * is damaged (the verdict).
     */
    private Failure download(S3Client s3, String bucket, Path file, Age.Identities identities) {
        try {
            return VerifiedDownload.toFileVerdict(s3, bucket, manifest, file, identities, err);
        } catch (Failure f) {
            // S3, the network, a dump deleted meanwhile, the local disk (VerifiedDownload tells them from damage): says nothing about the backup
            if (f.exitCode != Exit.DATA_INVALID) throw new Failure(f.exitCode, f.getMessage() + "; nothing recorded, the last drill record stands", f);
            Long stored;
            try {
                stored = s3.headObject(b -> b.bucket(bucket).key(manifest.dumpKey())).contentLength();
            } catch (NoSuchKeyException gone) {
                throw new Failure(Exit.FAILED, "the dump " + manifest.dumpKey() + " vanished after it was listed (deleted by prune or by hand?):"
                        + " no verdict, nothing recorded; drill a backup that exists (restore list)");
            } catch (RuntimeException e) {
                throw Errors.classify(e);
            }
            if (stored != null && stored == manifest.sizeBytes()) {
                throw new Failure(Exit.UNAVAILABLE, f.getMessage().replaceFirst(": the dump is damaged; choose another backup \\(restore list\\)$", "")
                        + ", yet S3 lists it with the manifest's size (" + stored + " bytes): S3 or the network failed, not the backup;"
                        + " nothing recorded; run the drill again");
            }
            return f;
        }
    }

    /**
     * Every manifest table present, with all its rows: exactly the backup's counts where it has them (rowCount taken in
     * the dump's snapshot, archiveRows counted in the archive), else within the tolerance of its estimate.
     */
    private void compareTables(ConnInfo scratch, TocListing listing) {
        List<Manifest.TableStat> expected = manifest.tables() == null ? List.of() : manifest.tables();
        // The user tables as backup lists them for the manifest (lib/UserTables), each with its relkind.
        Map<List<String>, String> present = new HashMap<>();
        for (UserTables.Table t : UserTables.list(psql, scratch)) present.put(t.key(), t.kind());
        boolean excluding = manifest.pgDumpArgs() != null && manifest.pgDumpArgs().stream()
                .anyMatch(a -> a.startsWith("--exclude-table-data") || a.equals("--schema-only") || a.equals("-s"));
        int exact = 0, estimated = 0, presence = 0, noData = 0;
        List<Manifest.TableStat> toCount = new ArrayList<>();
        for (Manifest.TableStat t : expected) {
            if (excluding && !listing.hasDataFor(t.schema(), t.table())) noData++;
            else if (exact(t)) exact++;
            else if (t.rowEstimate() >= 0 && !partitioned(present, t)) estimated++;
            else presence++;
            if (present.containsKey(List.of(t.schema(), t.table()))) {
                toCount.add(t);
            } else {
                tables.add(new VerifyRecord.TableCheck(t.schema(), t.table(), expectedRows(t), exact(t), null, "missing", t.rowCount(), t.archiveRows()));
                fail(Exit.DATA_INVALID, "table " + qualified(t) + " is in the manifest but not in the restored database");
            }
        }
        coverage = new VerifyRecord.Coverage(exact, estimated, presence, noData);
        Map<Manifest.TableStat, Long> counts = countRows(scratch, toCount);
        for (Manifest.TableStat t : toCount) {
            long restored = counts.get(t);
            String verdict;
            if (excluding && !listing.hasDataFor(t.schema(), t.table())) {
                verdict = "no data in dump";
            } else if (exact(t)) {
                List<String> differ = new ArrayList<>();
                if (t.rowCount() != null && restored != t.rowCount()) differ.add("the backup counted " + t.rowCount() + " in the database");
                if (t.archiveRows() != null && restored != t.archiveRows()) differ.add("the archive holds " + t.archiveRows() + " per the manifest");
                verdict = differ.isEmpty() ? "ok" : "rows differ";
                if (!differ.isEmpty()) {
                    long want = expectedRows(t);
                    fail(Exit.DATA_INVALID, "table " + qualified(t) + ": " + restored + " rows restored, " + String.join(" and ", differ)
                            + (restored < want ? " (" + (want - restored) + " missing)" : ""));
                }
            } else if (t.rowEstimate() < 0 || partitioned(present, t)) {
                verdict = "present"; // never analysed; or partitioned: its rows are its partitions', each checked itself
            } else {
                long allowed = Math.max(tolerance.rows(), (long) Math.ceil(tolerance.percent() / 100.0 * t.rowEstimate()));
                verdict = Math.abs(restored - t.rowEstimate()) <= allowed ? "ok" : "rows differ";
                if (!verdict.equals("ok")) {
                    fail(Exit.DATA_INVALID, "table " + qualified(t) + ": " + restored + " rows restored, the manifest estimated "
                            + t.rowEstimate() + " (tolerance ±" + allowed + "; no exact count in this manifest)");
                }
            }
            tables.add(new VerifyRecord.TableCheck(t.schema(), t.table(), expectedRows(t), exact(t), restored, verdict, t.rowCount(), t.archiveRows()));
        }
    }

    /**
     * Each table's own rows (count(*) FROM ONLY, as backup counts them: {@link UserTables#countSql}; an inheritance
     * parent's children are counted as themselves, a partitioned table has none), a few hundred tables per psql call.
     */
    /** In the scratch database only: the drill role owns the tables, and without FORCE an owner's counts see every row. */
    private static final String NO_FORCE_RLS = "do $$ declare r record; begin for r in select n.nspname, c.relname from pg_class c"
            + " join pg_namespace n on n.oid = c.relnamespace where c.relforcerowsecurity loop"
            + " execute format('alter table %I.%I no force row level security', r.nspname, r.relname); end loop; end $$";

    private Map<Manifest.TableStat, Long> countRows(ConnInfo db, List<Manifest.TableStat> tables) {
        Map<Manifest.TableStat, Long> counts = new LinkedHashMap<>();
        for (int from = 0; from < tables.size(); from += 200) {
            List<Manifest.TableStat> batch = tables.subList(from, Math.min(tables.size(), from + 200));
            // row_security = off: a table whose rows a policy would still hide is an error, never a short count.
            StringBuilder sql = new StringBuilder("set row_security = off; ");
            for (int i = 0; i < batch.size(); i++) {
                if (i > 0) sql.append(" union all ");
                sql.append("select ").append(i).append(", (").append(UserTables.countSql(batch.get(i).schema(), batch.get(i).table())).append(')');
            }
            for (String line : PgTools.query(psql, db, sql.toString()).lines().toList()) {
                String[] parts = line.split("\\|");
                counts.put(batch.get(Integer.parseInt(parts[0])), Long.parseLong(parts[1]));
            }
        }
        return counts;
    }

    /** What the drill found, for people: stderr, and the GitHub step summary. */
    void report(DrillVerdict verdict, VerifyRecord record, BackupChoice chosen, boolean recorded) {
        String total = String.format(Locale.ROOT, "%.0f s", record.durationsSeconds().getOrDefault("total", 0.0));
        String checked = record.coverage() == null ? null : record.coverage().describe();
        switch (verdict.kind()) {
            case PASSED -> {
                boolean allExact = record.coverage() != null && record.coverage().allExact();
                err.println("drill: PASSED in " + total + ": " + chosen.key().base() + (allExact ? " restores with all its rows" : " restores")
                        + "; tables: " + checked + "; TOC entries " + record.tocEntriesFound()
                        + (recorded ? "; recorded in " + chosen.key().verifyKey() : "; not recorded (--no-record)"));
                List<String> estimated = estimatedTables();
                if (!estimated.isEmpty()) {
                    err.println("drill: compared with an estimate only (within ±" + BigDecimal.valueOf(tolerance.percent()).stripTrailingZeros().toPlainString()
                            + "% or ±" + tolerance.rows() + " rows): " + String.join(", ", estimated.subList(0, Math.min(10, estimated.size())))
                            + (estimated.size() > 10 ? " and " + (estimated.size() - 10) + " more" : ""));
                }
            }
            case DAMAGED -> {
                err.println("drill: FAILED in " + total + ": " + chosen.key().base() + (checked == null ? "" : "; tables: " + checked)
                        + (recorded ? "; recorded in " + chosen.key().verifyKey() : ""));
                for (String reason : verdict.reasons()) err.println("  - " + reason);
            }
            case UNTESTED -> {
                err.println("drill: COULD NOT TEST " + chosen.key().base() + " in " + total + ": " + String.join("; ", verdict.reasons())
                        + ". This says nothing about the backup: nothing recorded, its last drill record stands");
            }
        }
        String headline = switch (verdict.kind()) {
            case PASSED -> "**passed**";
            case DAMAGED -> "**FAILED**";
            case UNTESTED -> "**could not test** (the scratch server, not the backup)";
        };
        StringBuilder md = new StringBuilder(new Markdown().heading("restore drill") + Markdown.code(chosen.key().dumpKey()) + ": " + headline + " in " + total
                + (checked == null || verdict.kind() == DrillVerdict.Kind.UNTESTED ? "" : "; tables: " + Markdown.escape(checked)) + "\n");
        for (String reason : verdict.reasons()) md.append("- ").append(Markdown.escape(reason)).append('\n');
        StepSummary.append(md.toString());
    }

    /** The tables compared with an estimate only, for the report. */
    List<String> estimatedTables() {
        List<String> out = new ArrayList<>();
        for (VerifyRecord.TableCheck c : tables) {
            boolean compared = c.verdict().equals("ok") || c.verdict().equals("rows differ");
            if (!c.exact() && compared) out.add(UserTables.quoted(c.schema()) + "." + UserTables.quoted(c.table()));
        }
        return out;
    }

    VerifyRecord record(Instant started, DrillVerdict verdict) {
        Instant finished = Instant.now();
        durations.put("total", Duration.between(started, finished).toMillis() / 1000.0);
        return new VerifyRecord(VerifyRecord.CURRENT_FORMAT, Version.TOOL, Version.VERSION, "drill", manifest.dumpKey(), manifest.sha256(),
                verdict.outcome(), verdict.reasons(), Iso.iso(started), Iso.iso(finished), durations, pgRestore.version(), serverVersion.version(),
                manifest.tocEntries(), tocFound, tolerance, tables, coverage);
    }

    /** The major version to name in image advice: the backup's server's, else the scratch server's. */
    private int imageMajor() {
        int backup = PgTools.majorOf(manifest.serverVersion());
        return backup > 0 ? backup : serverVersion.major();
    }

    private static boolean exact(Manifest.TableStat t) { return t.rowCount() != null || t.archiveRows() != null; }

    private static boolean partitioned(Map<List<String>, String> present, Manifest.TableStat t) {
        return "p".equals(present.get(List.of(t.schema(), t.table())));
    }

    private static long expectedRows(Manifest.TableStat t) {
        return t.rowCount() != null ? t.rowCount() : t.archiveRows() != null ? t.archiveRows() : t.rowEstimate();
    }

    private static String qualified(Manifest.TableStat t) { return UserTables.quoted(t.schema()) + "." + UserTables.quoted(t.table()); }

    private static double seconds(long sinceNanos) { return Math.round((System.nanoTime() - sinceNanos) / 1e7) / 100.0; }
}
