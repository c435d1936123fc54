///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
// Sources are UTF-8 whatever the locale (cron, systemd, containers with LANG unset or C would read them as ASCII).
//COMPILE_OPTIONS -encoding UTF-8
// Memory flat whatever the size (bench/: peak RSS ~170 MB at 1 and 5 GB): a small young generation instead of G1 growing
// its heap with the bytes streamed; the maximum heap stays the default, room for --part-size buffers.
//JAVA_OPTIONS -XX:+UseSerialGC -Xmn32m
//DEPS info.picocli:picocli:4.7.7
//DEPS software.amazon.awssdk:bom:2.40.2@pom
//DEPS software.amazon.awssdk:s3
//DEPS software.amazon.awssdk:iam
//DEPS software.amazon.awssdk:sts
//DEPS software.amazon.awssdk:apache-client
//DEPS com.fasterxml.jackson.core:jackson-databind:2.21.3
//DEPS org.zeroturnaround:zt-exec:1.12
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
//DEPS com.exceptionfactory.jagged:jagged-api:1.0.0
//DEPS com.exceptionfactory.jagged:jagged-framework:1.0.0
//DEPS com.exceptionfactory.jagged:jagged-x25519:1.0.0
//SOURCES lib/Exit.java
//SOURCES lib/Redact.java
//SOURCES lib/Version.java
//SOURCES lib/Cli.java
//SOURCES lib/JsonDocument.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/BackupKey.java
//SOURCES lib/Manifest.java
//SOURCES lib/ConnInfo.java
//SOURCES lib/PgTools.java
//SOURCES lib/Lifeline.java
//SOURCES lib/ChildEnvironment.java
//SOURCES lib/ServiceFile.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StorageOptions.java
//SOURCES lib/Progress.java
//SOURCES lib/BackupStatus.java
//SOURCES lib/BackupListing.java
//SOURCES lib/VerifyRecord.java
//SOURCES lib/Age.java
//SOURCES lib/DiskSpace.java
//SOURCES lib/Threads.java
//SOURCES lib/ArchiveRows.java
//SOURCES lib/DrillVerdict.java
//SOURCES lib/ScratchServer.java
//SOURCES lib/ServerIdentity.java
//SOURCES lib/CheckCommand.java
//SOURCES lib/BackupCheck.java
//SOURCES lib/BackupHealth.java
//SOURCES lib/CheckReport.java
//SOURCES lib/WatchedNames.java
//SOURCES lib/AtomicFile.java
//SOURCES lib/PrometheusTextfile.java
//SOURCES lib/HttpPost.java
//SOURCES lib/Pings.java
//SOURCES lib/Webhook.java
//SOURCES lib/GitHubAnnotations.java
//SOURCES lib/Durations.java
//SOURCES lib/TextTable.java
//SOURCES lib/Markdown.java
//SOURCES lib/Stopwatch.java

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * restore: list, verify, restore and drill the backups written by backup (design.md sections 2-4).
 *
 * The story, top to bottom:
 * <ol>
 * <li>Restore (the default action, no subcommand): choose a backup (latest, --at, --key), check the target is
 *     safe to write (not the source, not a database with tables in it), download the dump to a temp file while
 *     hashing it, compare size and SHA-256 with the manifest and let pg_restore read the archive, and only then
 *     run pg_restore into the target, in one transaction by default so a failure leaves the target as it was.</li>
 * <li>{@code list}: the backups under the prefix, newest first.</li>
 * <li>{@code verify}: the checks of 1 without any database.</li>
 * <li>{@code drill}: 1 into a throwaway database, compared with the manifest, recorded next to the backup as
 *     {@code .verify.json} so prune can trust it.</li>
 * <li>{@code keygen}: a new age key pair for encrypted backups (backup --encrypt-to).</li>
 * </ol>
 * An encrypted backup (age) is decrypted on the way, after the hash of the stored bytes: download → SHA-256 →
 * decrypt → temp file or pg_restore, with the private key from --identity FILE or BACKUP_AGE_IDENTITY.
 * The mechanisms they share (choosing a backup, downloading with a checksum, running pg_restore) follow the
 * subcommands.
 */
@Command(name = "restore", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        subcommands = {Restore.ListBackups.class, Restore.Verify.class, Restore.Drill.class, Restore.Keygen.class, CheckCommand.class},
        description = {
            "Restore a backup into a database: the latest by default, or the one chosen with --at or --key.",
            "Nothing touches the target before the backup is downloaded and checked (size, SHA-256, archive readable);"
                + " pg_restore then runs in one transaction, so a failed restore leaves the target as it was.",
            "Refuses a target that already has tables (unless --clean or --force) and the database the backup came from (unless --force).",
            "",
            "An encrypted backup (backup --encrypt-to) needs its private key: --identity FILE or BACKUP_AGE_IDENTITY.",
            "",
            "Subcommands: 'list' shows the backups, 'verify' checks one without a database, 'drill' proves one restores,"
                + " 'keygen' makes a key pair for encrypted backups, 'check' watches that every database has a fresh, proven backup.",
            ""})
class Restore implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--target-url", paramLabel = "URL", defaultValue = "${env:RESTORE_DATABASE_URL}",
            description = "Database to restore into, a libpq URI (env RESTORE_DATABASE_URL). Best a NEW database, with --create.")
    String targetUrl;

    @Option(names = "--create", description = "Create the target database if it does not exist (once the backup has been verified; with --stream before, and dropped again if the restore fails).")
    boolean create;

    @Option(names = "--clean", description = "Drop the backup's objects from the target before recreating them (pg_restore --clean --if-exists).")
    boolean clean;

    @Option(names = "--force", description = "Restore even into a target that has tables, or into the very database the backup came from.")
    boolean force;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "1",
            description = "Parallel pg_restore jobs (default 1). Above 1 the restore is not one transaction: a failure can leave a partial restore.")
    int jobs;

    @Option(names = "--stream", description = "Pipe the download straight into pg_restore instead of a temp file (when disk is short)."
            + " The checksum is then known only at the end: on a mismatch pg_restore is stopped before it commits.")
    boolean stream;

    @Option(names = "--temp-dir", paramLabel = "DIR", defaultValue = "${sys:java.io.tmpdir}",
            description = "Where the dump is downloaded to before the restore (default: ${DEFAULT-VALUE}); needs the backup's size free.")
    Path tempDir;

    @Option(names = "--owner", description = "Keep the backup's object owners (default: --no-owner, objects belong to the user restoring; the roles must exist).")
    boolean keepOwner;

    @Option(names = "--no-owner", description = "The default: objects belong to the user you restore as.")
    boolean noOwner;

    @Option(names = "--acl", description = "Restore GRANTs/REVOKEs too (default: --no-acl; the roles must exist).")
    boolean keepAcl;

    @Option(names = "--no-acl", description = "The default: no GRANT/REVOKE statements.")
    boolean noAcl;

    @Option(names = "--no-single-transaction", description = "Do not wrap the restore in one transaction (e.g. when it runs out of locks: max_locks_per_transaction).")
    boolean noSingleTransaction;

    @Option(names = "--pg-restore", paramLabel = "PATH", description = "pg_restore to use (default: the one matching the target server and the backup's pg_dump version).")
    String pgRestorePath;

    @Mixin IdentityOption identity = new IdentityOption();
    @Mixin Selection selection = new Selection();
    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    public static void main(String[] args) { Cli.main(new Restore(), args); }

    @Override
    public Integer call() throws Exception {
        storage.validate();
        PrintWriter err = spec.commandLine().getErr();
        if (targetUrl == null || targetUrl.isBlank()) {
            throw Failure.usage("no target database: give --target-url URL or set RESTORE_DATABASE_URL"
                    + " (best a new database, with --create); 'restore list' shows the backups");
        }
        ConnInfo target = ConnInfo.parse(targetUrl);
        if (jobs < 1) throw Failure.usage("--jobs must be 1 or more, not " + jobs);
        if (stream && jobs > 1) throw Failure.usage("--jobs needs the downloaded file: drop --stream, or use --jobs 1");
        if (keepOwner && noOwner) throw Failure.usage("--owner and --no-owner contradict each other");
        if (keepAcl && noAcl) throw Failure.usage("--acl and --no-acl contradict each other");
        if (!stream) Download.checkTempDir(tempDir);
        boolean singleTransaction = jobs == 1 && !noSingleTransaction;
        Instant started = Instant.now();

        try (S3Client s3 = AwsClients.s3(storage.aws)) {
            Chosen chosen = Chosen.select(s3, storage.bucket(), storage.prefix(), selection, err);
            Manifest m = chosen.manifest();
            Age.Identities identities = identity.forBackup(m);
            err.println("restore: backup " + chosen.describe());
            chosen.checkListedSize();
            err.println("restore: target " + target.redacted());

            PgTools.Tool psql = PgTools.anyPsql();
            Target.State state = Target.inspect(psql, target);
            if (!force && state.exists()) {
                // By identity, not by how the URLs spell the host: localhost is 127.0.0.1, a moved DNS name is the same server.
                String same = ServerIdentity.sameAsSource(m, target, ServerIdentity.of(psql, target));
                if (same != null) {
                    throw Failure.usage("the target is the database this backup came from (" + m.database() + " on " + m.host() + ": " + same
                            + "): restore into a new database and switch over once it is checked, or pass --force to overwrite the source"
                            + " (a Neon branch or a physical copy of the source has the same identity: --force is for those too)");
                }
            }
            if (!state.exists() && !create) {
                throw Failure.usage("the target database \"" + target.database() + "\" does not exist on " + target.host()
                        + ": add --create to create it (after the backup is verified), or create it yourself");
            }
            if (state.objects() > 0 && !clean && !force) {
                throw Failure.usage("the target database \"" + target.database() + "\" is not empty: it has " + state.objects()
                        + " tables, views or sequences (" + String.join(", ", state.examples()) + (state.objects() > state.examples().size() ? ", ..." : "")
                        + "): restore into a new database (--create), or pass --clean to replace the backup's objects, or --force to restore on top");
            }
            PgTools.Tool pgRestore = PgRestore.choose(pgRestorePath, state.server().major(), m);
            err.println("restore: target server " + state.server().version() + (state.exists() ? "" : "; the database will be created")
                    + "; using " + pgRestore.path() + " " + pgRestore.version());

            PgRestore.Options how = new PgRestore.Options(clean, jobs, singleTransaction, !keepOwner, !keepAcl);
            Applied applied = stream
                    ? applyStreaming(s3, chosen, target, state, psql, pgRestore, how, identities, err)
                    : applyFromFile(s3, chosen, target, state, psql, pgRestore, how, identities, err);

            double seconds = Duration.between(started, Instant.now()).toMillis() / 1000.0;
            long tables = Target.inspect(psql, target).tables();
            err.printf(Locale.ROOT, "restore: done in %.0f s: %s restored into \"%s\" (%d table%s)%n", seconds, chosen.key().base(), target.database(),
                    tables, tables == 1 ? "" : "s");
            err.println("next: run ANALYZE on it (vacuumdb --analyze-in-stages), check it with your application, then switch"
                    + " your application's DATABASE_URL over to it (see the README's restore runbook)");
            StepSummary.append("### restore\n\n| backup | target | result |\n|---|---|---|\n| `" + chosen.key().dumpKey() + "` | `"
                    + target.redacted() + "` | restored in " + Math.round(seconds) + " s, " + tables + " tables |\n");
            if (output.json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("outcome", "restored");
                doc.put("backup", chosen.summary());
                doc.put("target", target.redacted());
                doc.put("database", target.database());
                doc.put("created", applied.created());
                doc.put("mode", stream ? "stream" : "file");
                doc.put("jobs", jobs);
                doc.put("singleTransaction", singleTransaction);
                doc.put("tocEntries", applied.tocEntries());
                doc.put("tables", tables);
                doc.put("pgRestoreVersion", pgRestore.version());
                doc.put("serverVersion", state.server().version());
                doc.put("seconds", seconds);
                spec.commandLine().getOut().println(Json.write(doc));
            }
            return Exit.OK;
        }
    }

    /** What the apply step did. */
    record Applied(boolean created, Integer tocEntries) {}

    /**
     * Default: download to a temp file, verify it completely, then create the database if asked and restore.
     * An encrypted backup is decrypted on its way into the file (0600, deleted afterwards): every chunk is
     * authenticated before it is written, so the target is touched only after the whole backup decrypted.
     */
    private Applied applyFromFile(S3Client s3, Chosen chosen, ConnInfo target, Target.State state, PgTools.Tool psql,
                                  PgTools.Tool pgRestore, PgRestore.Options how, Age.Identities identities, PrintWriter err) throws Exception {
        Manifest m = chosen.manifest();
        try (TempDump temp = Download.tempDump(tempDir, m.sizeBytes(), err)) {
            Path file = temp.path();
            Download.toFile(s3, storage.bucket(), m, file, identities, err);
            int toc = PgRestore.listFile(pgRestore, file).entries();
            err.println("restore: verified: size and SHA-256 match the manifest" + (identities == null ? "" : ", decrypted with age")
                    + ", pg_restore reads " + toc + " TOC entries");
            boolean created = !state.exists() && Target.create(psql, target, err);
            try (Interruption watch = Interruption.watch(psql, target, created, how.singleTransaction())) {
                try {
                    PgRestore.run(pgRestore, target, how, file, err, watch);
                } catch (Failure f) {
                    throw restoreFailed(f, how, created, psql, target);
                }
            }
            return new Applied(created, toc);
        }
    }

    /**
     * --stream: pg_restore reads the download as it arrives. The last bytes are held back until the whole object
     * has been hashed: pg_restore cannot finish (let alone COMMIT its single transaction) without them, so on a
     * checksum mismatch it is stopped with nothing committed. Without a single transaction that guarantee is gone,
     * and the error says the target holds unverified data.
     */
    private Applied applyStreaming(S3Client s3, Chosen chosen, ConnInfo target, Target.State state, PgTools.Tool psql,
                                   PgTools.Tool pgRestore, PgRestore.Options how, Age.Identities identities, PrintWriter err) throws Exception {
        Manifest m = chosen.manifest();
        boolean created = !state.exists() && Target.create(psql, target, err);
        try (Interruption watch = Interruption.watch(psql, target, created, how.singleTransaction());
             PgTools.Streaming p = PgTools.start(Lifeline.wrap(PgRestore.command(pgRestore, target, how, null)), target.childEnvironment())) {
            watch.pgRestore = p;
            Thread drain = Download.drain(p.stdout(), OutputStream.nullOutputStream());
            HoldBack held = new HoldBack(new BufferedOutputStream(p.stdin(), 256 * 1024), HoldBack.TAIL);
            Tolerant sink = new Tolerant(held);
            // Encrypted: pg_restore gets only authenticated plaintext; a chunk that fails stops the download at once.
            Age.Decrypting decrypting = Download.decrypting(m, identities, sink);
            Download.Result got;
            Failure mismatch;
            try {
                got = Download.fetch(s3, storage.bucket(), m.dumpKey(), m.sizeBytes(), decrypting != null ? decrypting : sink,
                        new Progress("restore: streaming " + chosen.key().base(), err, m.sizeBytes()), err);
                mismatch = Download.mismatch(m, got);
                if (mismatch == null && decrypting != null) decrypting.finish();
            } catch (RuntimeException e) {
                if (decrypting == null || !(e instanceof Failure f) || f.exitCode != Exit.DATA_INVALID) {
                    p.close(); // first: the decryption may be blocked writing to it
                    if (decrypting != null) decrypting.close();
                    // Say what the target holds now: dropped if we created it, else nothing committed, or a PARTIAL restore.
                    throw restoreFailed(Errors.classify(e), how, created, psql, target);
                }
                mismatch = f; // the decryption failed: like a checksum mismatch, pg_restore must not commit
            }
            if (mismatch != null) {
                boolean finished = !p.process().isAlive() && p.process().exitValue() == 0;
                p.close();
                if (decrypting != null) decrypting.close();
                String where = finished
                        ? "pg_restore had already finished: the target now holds UNVERIFIED data from this backup; drop it or restore a good backup over it with --clean"
                        : how.singleTransaction()
                            ? "pg_restore was stopped before it could commit: nothing from this backup was committed to the target"
                            : "the target now holds UNVERIFIED, possibly corrupt data from this backup (no single transaction): drop it or restore a good backup over it with --clean";
                if (created) {
                    Target.drop(psql, target, err);
                    where += "; the database created for this restore was dropped";
                }
                throw new Failure(Exit.DATA_INVALID, mismatch.getMessage() + "; " + where);
            }
            if (!sink.broken()) {
                try {
                    held.release();
                    held.close();
                } catch (IOException e) {
                    // pg_restore exited early; its exit status below says why
                }
            }
            int code = p.waitFor();
            if (code == 0) watch.committed = true;
            drain.join(10_000);
            if (code != 0) throw restoreFailed(Errors.fromPgTool("pg_restore", code, p.stderr()), how, created, psql, target);
            err.println("restore: verified: size and SHA-256 match the manifest" + (decrypting == null ? "" : ", decrypted with age") + " (checked as it streamed)");
            return new Applied(created, null);
        }
    }

    /** A failed pg_restore, with what state it left the target in. */
    private static Failure restoreFailed(Failure f, PgRestore.Options how, boolean created, PgTools.Tool psql, ConnInfo target) {
        // SIGTERM/Ctrl-C stopped pg_restore: the shutdown hook drops what this run created and says what is left.
        if (Interruption.shuttingDown()) return new Failure(Exit.FAILED, "interrupted (SIGTERM/Ctrl-C) while pg_restore ran");
        String state;
        if (created) {
            boolean dropped = Target.drop(psql, target, null);
            state = dropped ? "the database created for this restore was dropped" : "the database created for this restore could not be dropped: drop it yourself";
        } else {
            state = how.singleTransaction() ? "nothing was committed: the target is as it was"
                    : "the target may hold a PARTIAL restore: drop it, or run again with --clean";
        }
        return new Failure(f.exitCode, f.getMessage() + " — " + state);
    }

    // ------------------------------------------------------------------------------------------------ list

    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
            description = {"List backups, newest first: start time (UTC), name, source host, size, PostgreSQL versions, last drill, status, key.",
                "A backup is complete when its manifest is valid, names its own dump, and that dump is there with the manifest's size;"
                    + " any other backup with a manifest is listed with the reason it is not complete (it is never restored)."
                    + " Incomplete ones (a dump without a manifest: failed or still running) are shown only with --all."
                    + " Use the time with --at, or the key with --key, to restore one.", ""})
    static class ListBackups implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--name", paramLabel = "NAME", description = "Only this backup name (default: all names under the prefix).")
        String name;

        @Option(names = "--all", description = "Also show incomplete backups (a dump without manifest).")
        boolean all;

        @Mixin StorageOptions storage = new StorageOptions();
        @Mixin OutputOptions output = new OutputOptions();

        /** One backup and what its manifest (without its table statistics) and drill record say. */
        record Row(BackupListing.Entry entry, Manifest manifest, VerifyRecord drill) {}

        @Override
        public Integer call() throws Exception {
            takeParentOptions(spec);
            storage.validate();
            String only = name == null ? null : BackupKey.nameOption(name);
            List<Row> rows = new ArrayList<>();
            int hidden = 0;
            try (S3Client s3 = AwsClients.s3(storage.aws)) {
                List<BackupListing.Entry> shown = new ArrayList<>();
                for (BackupListing.Entry e : BackupListing.list(s3, storage.bucket(), storage.prefix(), only)) {
                    if (e.status().hasManifest() || (all && e.incomplete())) shown.add(e);
                    else if (e.incomplete()) hidden++;
                }
                // Drill records are small objects: fetch them a few at a time.
                ExecutorService pool = Executors.newFixedThreadPool(8);
                try {
                    List<Future<Row>> futures = new ArrayList<>();
                    for (BackupListing.Entry e : shown) futures.add(pool.submit(() -> row(s3, storage.bucket(), e)));
                    for (Future<Row> f : futures) rows.add(f.get());
                } finally {
                    pool.shutdownNow();
                }
            }
            rows.sort(Comparator.comparing((Row r) -> r.entry().key().startedAt()).reversed().thenComparing(r -> r.entry().key().name()));
            String where = "s3://" + storage.bucket() + "/" + storage.prefix() + "/" + (only == null ? "" : only + "/");
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (output.json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("bucket", storage.bucket());
                doc.put("prefix", storage.prefix());
                doc.put("name", only);
                List<Object> backups = new ArrayList<>();
                for (Row r : rows) backups.add(json(r));
                doc.put("backups", backups);
                doc.put("incompleteHidden", hidden);
                out.println(Json.write(doc));
                return Exit.OK;
            }
            if (rows.isEmpty()) {
                err.println("no backups under " + where + (hidden > 0 ? " (" + hidden + " incomplete: --all shows them)" : ""));
                return Exit.OK;
            }
            List<String[]> table = new ArrayList<>();
            table.add(new String[] {"STARTED (UTC)", "NAME", "HOST", "SIZE", "PG_DUMP", "SERVER", "DRILL", "STATUS", "KEY"});
            for (Row r : rows) table.add(cells(r));
            printTable(out, table);
            long names = rows.stream().map(r -> r.entry().key().name()).distinct().count();
            long notComplete = rows.stream().filter(r -> !r.entry().complete() && !r.entry().incomplete()).count();
            err.println(rows.size() + " backup" + (rows.size() == 1 ? "" : "s") + " of " + names + " name" + (names == 1 ? "" : "s") + " under " + where
                    + (notComplete > 0 ? "; " + notComplete + " NOT COMPLETE (never restored: the STATUS column says why)" : "")
                    + (hidden > 0 ? "; " + hidden + " incomplete not shown (--all shows them)" : ""));
            return Exit.OK;
        }

        private static Row row(S3Client s3, String bucket, BackupListing.Entry e) {
            VerifyRecord drill = e.verified() ? VerifyRecord.read(s3, bucket, e.key()) : null;
            return new Row(e, e.status().manifest(), drill);
        }

        /** The source's host: the identity backup recorded, else the host the URL named (older manifests). */
        static String host(Manifest m) {
            if (m == null) return null;
            if (m.source() != null && m.source().host() != null) return m.source().host();
            return m.host();
        }

        private static String[] cells(Row r) {
            Manifest m = r.manifest();
            BackupListing.Entry e = r.entry();
            String status;
            if (e.incomplete()) status = "INCOMPLETE (no manifest)";
            else if (!e.complete()) status = "NOT COMPLETE: " + e.status().describe();
            else if (m.encryption() != null) status = "complete, encrypted (" + m.encryption().scheme() + ")";
            else status = "complete";
            Long size = m != null ? Long.valueOf(m.sizeBytes()) : e.dump() != null ? e.dump().size() : null;
            return new String[] {Iso.iso(e.key().startedAt()), e.key().name(), host(m) == null ? "-" : host(m),
                    size == null ? "-" : Progress.size(size),
                    m == null || m.pgDumpVersion() == null ? "-" : m.pgDumpVersion(),
                    m == null || m.serverVersion() == null ? "-" : m.serverVersion().strip().split("\\s+")[0],
                    drillCell(r), status, e.dump() != null || e.manifest() == null ? e.key().dumpKey() : e.key().manifestKey()};
        }

        /** A drill record counts only next to a complete backup, and only for its dump. */
        private static String drillCell(Row r) {
            VerifyRecord d = r.drill();
            if (d == null) return r.entry().verified() ? "unreadable" : "-";
            String day = d.finishedAt() == null ? "" : " " + d.finishedAt().substring(0, Math.min(10, d.finishedAt().length()));
            if (!r.entry().complete()) return (d.passed() ? "passed (not counted)" : "FAILED") + day;
            if (d.vouchesFor(r.manifest())) return "passed" + day;
            return (d.passed() ? "passed (other dump)" : "FAILED") + day;
        }

        private static Map<String, Object> json(Row r) {
            Manifest m = r.manifest();
            BackupListing.Entry e = r.entry();
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", e.key().name());
            b.put("startedAt", Iso.iso(e.key().startedAt()));
            b.put("complete", e.complete());
            b.put("status", e.status().state().name().toLowerCase(Locale.ROOT));
            b.put("reason", e.complete() ? null : e.status().describe());
            b.put("host", host(m));
            b.put("dumpKey", e.key().dumpKey());
            b.put("dumpPresent", e.dump() != null);
            b.put("manifestKey", e.manifest() != null ? e.key().manifestKey() : null);
            b.put("sizeBytes", m != null ? Long.valueOf(m.sizeBytes()) : e.dump() != null ? e.dump().size() : null);
            b.put("sha256", m == null ? null : m.sha256());
            b.put("database", m == null ? null : m.database());
            b.put("pgDumpVersion", m == null ? null : m.pgDumpVersion());
            b.put("serverVersion", m == null ? null : m.serverVersion());
            b.put("encrypted", m != null && m.encryption() != null);
            b.put("encryption", m == null || m.encryption() == null ? null : m.encryption().scheme());
            b.put("recipients", m == null || m.encryption() == null ? null : m.encryption().recipients());
            VerifyRecord d = r.drill();
            if (d == null) {
                b.put("drill", null);
            } else {
                Map<String, Object> drill = new LinkedHashMap<>();
                drill.put("outcome", d.outcome());
                drill.put("finishedAt", d.finishedAt());
                drill.put("vouches", e.complete() && d.vouchesFor(m));
                drill.put("reasons", d.reasons());
                b.put("drill", drill);
            }
            b.put("verified", e.complete() && d != null && d.vouchesFor(m));
            b.put("problem", e.complete() ? null : e.status().describe());
            return b;
        }

        private static void printTable(PrintWriter out, List<String[]> rows) {
            int[] width = new int[rows.get(0).length];
            for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].codePointCount(0, r[i].length()));
            for (String[] r : rows) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < r.length; i++) {
                    sb.append(r[i]);
                    if (i < r.length - 1) sb.append(" ".repeat(width[i] - r[i].codePointCount(0, r[i].length()) + 2));
                }
                out.println(sb.toString().stripTrailing());
            }
            out.flush();
        }
    }

    // ------------------------------------------------------------------------------------------------ verify

    @Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
            description = {"Check a backup without touching any database: download it (streaming, no disk needed), compare its size and"
                + " SHA-256 with the manifest, and have pg_restore read the whole archive: its TOC (as many entries as the manifest recorded)"
                + " and every data block, so a truncated or corrupt archive fails. Where the manifest recorded the rows the archive holds per"
                + " table (archiveRows), each table's rows must match.",
                "It proves the stored backup is the one the manifest describes and is readable to its end; only 'restore drill' proves it"
                    + " restores into a server. Exit 65 when anything does not match. The latest backup by default; --at or --key choose another.", ""})
    static class Verify implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--output", paramLabel = "FILE", description = "Also keep the verified dump in FILE (mode 0600; decrypted if the backup is encrypted),"
                + " e.g. for a manual pg_restore; deleted again if it fails the check.")
        Path outputFile;

        @Option(names = "--pg-restore", paramLabel = "PATH", description = "pg_restore to use (default: one at least as new as the backup's pg_dump).")
        String pgRestorePath;

        @Mixin IdentityOption identity = new IdentityOption();
        @Mixin Selection selection = new Selection();
        @Mixin StorageOptions storage = new StorageOptions();
        @Mixin OutputOptions output = new OutputOptions();

        @Override
        public Integer call() throws Exception {
            takeParentOptions(spec);
            storage.validate();
            PrintWriter err = spec.commandLine().getErr();
            if (outputFile != null && Files.exists(outputFile)) throw Failure.usage("--output " + outputFile + " exists already: choose a new file name");
            Instant started = Instant.now();
            try (S3Client s3 = AwsClients.s3(storage.aws)) {
                Chosen chosen = Chosen.select(s3, storage.bucket(), storage.prefix(), selection, err);
                Manifest m = chosen.manifest();
                err.println("verify: backup " + chosen.describe());
                chosen.checkListedSize();
                Age.Identities identities = identity.forBackup(m);
                PgTools.Tool pgRestore = PgRestore.choose(pgRestorePath, 0, m);
                PgRestore.Read read;
                if (outputFile != null) {
                    try {
                        Download.createPrivate(outputFile);
                        Download.toFile(s3, storage.bucket(), m, outputFile, identities, err);
                        read = PgRestore.readFile(pgRestore, outputFile, m);
                    } catch (RuntimeException e) {
                        Files.deleteIfExists(outputFile);
                        throw e;
                    }
                } else {
                    read = PgRestore.readStreaming(s3, storage.bucket(), m, pgRestore, identities, chosen.key().base(), err);
                }
                PgRestore.Listing listing = read.listing();
                if (m.tocEntries() != null && listing.entries() != m.tocEntries()) {
                    deleteOutput();
                    throw new Failure(Exit.DATA_INVALID, "backup " + chosen.key().base() + ": pg_restore lists " + listing.entries()
                            + " TOC entries, the manifest recorded " + m.tocEntries() + ": the dump is not the one the manifest describes");
                }
                List<String> differ = PgRestore.rowsDiffer(m, read.rows());
                if (!differ.isEmpty()) {
                    deleteOutput();
                    throw new Failure(Exit.DATA_INVALID, "backup " + chosen.key().base() + ": " + differ.get(0)
                            + (differ.size() > 1 ? " (and " + (differ.size() - 1) + " more table" + (differ.size() > 2 ? "s" : "") + ")" : "")
                            + ": the dump does not hold the rows the manifest describes; choose another backup (restore list)");
                }
                long compared = PgRestore.archiveCounted(m);
                String counted = read.rows() == null ? "its rows not counted (the backup's data is INSERT statements)"
                        : read.total() + " rows in " + read.rows().size() + (read.rows().size() == 1 ? " table" : " tables")
                        + (compared == 0 ? "; the manifest has no per-table archive counts to compare"
                        : "; the rows of " + compared + (compared == 1 ? " table match" : " tables match") + " the manifest's");
                double seconds = Duration.between(started, Instant.now()).toMillis() / 1000.0;
                String what = "size (" + Progress.size(m.sizeBytes()) + ") and SHA-256 match the manifest"
                        + (identities == null ? "" : ", decrypted with age") + ", pg_restore reads " + listing.entries() + " TOC entries and every data block ("
                        + counted + ")";
                err.printf(Locale.ROOT, "verify: OK in %.0f s: %s: %s%s%n", seconds, chosen.key().base(), what, outputFile == null ? "" : "; kept in " + outputFile);
                StepSummary.append("### verify\n\n`" + m.dumpKey() + "`: OK, " + what + "\n");
                if (output.json) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("outcome", "ok");
                    doc.put("backup", chosen.summary());
                    doc.put("tocEntries", listing.entries());
                    doc.put("rows", read.rows() == null ? null : read.total());
                    doc.put("tablesWithData", read.rows() == null ? null : read.rows().size());
                    doc.put("tablesCompared", compared);
                    doc.put("decrypted", identities != null);
                    doc.put("pgRestoreVersion", pgRestore.version());
                    doc.put("output", outputFile == null ? null : outputFile.toString());
                    doc.put("seconds", seconds);
                    spec.commandLine().getOut().println(Json.write(doc));
                }
                return Exit.OK;
            }
        }

        /** A dump kept with --output that then failed a check is not kept. */
        private void deleteOutput() throws IOException {
            if (outputFile != null) Files.deleteIfExists(outputFile);
        }
    }

    // ------------------------------------------------------------------------------------------------ drill

    @Command(name = "drill", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
            description = {"Prove a backup restores and holds all its rows: create a throwaway database pgdump_s3_drill_<random> on the scratch server,"
                + " restore the backup into it, compare it with the manifest, drop it again (always), and record the verdict next to the"
                + " backup as ...verify.json (passed or failed, with the reasons). Exit 0 only if the drill passed.",
                "Checks: size and SHA-256; the TOC entry count equals the manifest's; every table in the manifest exists after the restore;"
                + " each table's rows equal exactly what the backup counted (rowCount, in the dump's own snapshot) and what the archive holds"
                + " (archiveRows) when the manifest has them: one row missing fails the drill. Only a table with neither is compared with its"
                + " row estimate (pg_class.reltuples at backup time) within the larger of --row-tolerance-percent and --row-tolerance-rows"
                + " (default ±20%% or ±1000 rows), and the verdict says how many tables were exact and how many estimated;"
                + " a table never analysed (estimate -1) is checked for presence only.",
                "A scratch server that lacks what the backup needs (an extension such as pgvector or PostGIS, a role, the backup's server"
                + " version) cannot test it: \"could not test\", exit 78, and no record. Nor is anything recorded when S3 or the network fails"
                + " (69) or the backup disappears while the drill runs (1). A failed record always means the backup's data is wrong.",
                "Only a record with outcome \"passed\" vouches for a backup (prune --require-verified); a failed drill's record does not.", ""})
    static class Drill implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--scratch-url", paramLabel = "URL", defaultValue = "${env:DRILL_DATABASE_URL}",
                description = "Server for the throwaway database: a libpq URI of any database there that we may connect to and CREATE DATABASE from"
                        + " (env DRILL_DATABASE_URL; default: --target-url's server).")
        String scratchUrl;

        @Option(names = "--target-url", paramLabel = "URL", defaultValue = "${env:RESTORE_DATABASE_URL}",
                description = "Used for its server when --scratch-url is not given (env RESTORE_DATABASE_URL); that database itself is not touched.")
        String targetUrl;

        @Option(names = "--row-tolerance-percent", paramLabel = "P", defaultValue = "20",
                description = "For a table without an exact count in the manifest: allowed difference between its restored count and its row estimate,"
                        + " in percent of the estimate (default ${DEFAULT-VALUE}).")
        double tolerancePercent;

        @Option(names = "--row-tolerance-rows", paramLabel = "N", defaultValue = "1000",
                description = "The same in rows, whichever of the two is larger (default ${DEFAULT-VALUE}).")
        long toleranceRows;

        @Option(names = "--jobs", paramLabel = "N", defaultValue = "1", description = "Parallel pg_restore jobs (default 1).")
        int jobs;

        @Option(names = "--temp-dir", paramLabel = "DIR", defaultValue = "${sys:java.io.tmpdir}", description = "Where the dump is downloaded to (default: ${DEFAULT-VALUE}).")
        Path tempDir;

        @Option(names = "--no-record", description = "Do not write the ...verify.json record (e.g. with read-only credentials).")
        boolean noRecord;

        @Option(names = "--pg-restore", paramLabel = "PATH", description = "pg_restore to use (default: the one matching the scratch server and the backup's pg_dump version).")
        String pgRestorePath;

        @Mixin IdentityOption identity = new IdentityOption();
        @Mixin Selection selection = new Selection();
        @Mixin StorageOptions storage = new StorageOptions();
        @Mixin OutputOptions output = new OutputOptions();

        @Override
        public Integer call() throws Exception {
            takeParentOptions(spec);
            storage.validate();
            PrintWriter err = spec.commandLine().getErr();
            String url = scratchUrl != null && !scratchUrl.isBlank() ? scratchUrl : targetUrl;
            if (url == null || url.isBlank()) {
                throw Failure.usage("no server for the drill: give --scratch-url URL (or DRILL_DATABASE_URL), or --target-url (RESTORE_DATABASE_URL)");
            }
            ConnInfo server = ConnInfo.parse(url);
            if (jobs < 1) throw Failure.usage("--jobs must be 1 or more, not " + jobs);
            if (!Double.isFinite(tolerancePercent)) throw Failure.usage("--row-tolerance-percent must be a number (0 or more), not " + tolerancePercent);
            if (tolerancePercent < 0 || toleranceRows < 0) throw Failure.usage("row tolerances must not be negative");
            Download.checkTempDir(tempDir);
            Instant started = Instant.now();

            try (S3Client s3 = AwsClients.s3(storage.aws)) {
                Chosen chosen = Chosen.select(s3, storage.bucket(), storage.prefix(), selection, err);
                Manifest m = chosen.manifest();
                Age.Identities identities = identity.forBackup(m);
                err.println("drill: backup " + chosen.describe());
                PgTools.Tool psql = PgTools.anyPsql();
                PgTools.ServerVersion version = PgTools.serverVersion(psql, server);
                PgTools.Tool pgRestore = PgRestore.choose(pgRestorePath, version.major(), m);
                VerifyRecord.RowTolerance tolerance = new VerifyRecord.RowTolerance(tolerancePercent, toleranceRows);
                DrillRun run = new DrillRun(chosen, psql, pgRestore, server, version, tolerance, err);

                try (TempDump temp = Download.tempDump(tempDir, m.sizeBytes(), err)) {
                    run.execute(s3, storage.bucket(), temp.path(), jobs, identities);
                }

                DrillVerdict verdict = run.verdict();
                VerifyRecord record = run.record(started, verdict);
                boolean recorded = false;
                if (verdict.recorded() && !noRecord) {
                    checkStillThere(s3, storage.bucket(), chosen);
                    s3.putObject(b -> b.bucket(storage.bucket()).key(chosen.key().verifyKey()).contentType("application/json"),
                            RequestBody.fromString(record.toJson(), StandardCharsets.UTF_8));
                    recorded = true;
                }
                report(verdict, record, chosen, recorded, run, err);
                return verdict.exitCode();
            }
        }

        /**
         * A record is written only next to the backup that was drilled: if prune (or a person) deleted it while the drill
         * ran, there is nothing to vouch for or against, and a record would be left behind on its own.
         */
        static void checkStillThere(S3Client s3, String bucket, Chosen chosen) {
            for (String key : List.of(chosen.key().manifestKey(), chosen.manifest().dumpKey())) {
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

        private void report(DrillVerdict verdict, VerifyRecord record, Chosen chosen, boolean recorded, DrillRun run, PrintWriter err) {
            String total = String.format(Locale.ROOT, "%.0f s", record.durationsSeconds().getOrDefault("total", 0.0));
            String checked = record.coverage() == null ? null : record.coverage().describe();
            switch (verdict.kind()) {
                case PASSED -> {
                    boolean allExact = record.coverage() != null && record.coverage().allExact();
                    err.println("drill: PASSED in " + total + ": " + chosen.key().base() + (allExact ? " restores with all its rows" : " restores")
                            + "; tables: " + checked + "; TOC entries " + record.tocEntriesFound()
                            + (recorded ? "; recorded in " + chosen.key().verifyKey() : "; not recorded (--no-record)"));
                    List<String> estimated = run.estimatedTables();
                    if (!estimated.isEmpty()) {
                        err.println("drill: compared with an estimate only (within ±" + BigDecimal.valueOf(run.tolerance.percent()).stripTrailingZeros().toPlainString()
                                + "% or ±" + run.tolerance.rows() + " rows): " + String.join(", ", estimated.subList(0, Math.min(10, estimated.size())))
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
            StringBuilder md = new StringBuilder("### restore drill\n\n`" + chosen.key().dumpKey() + "`: " + headline + " in " + total
                    + (checked == null || verdict.kind() == DrillVerdict.Kind.UNTESTED ? "" : "; tables: " + checked) + "\n");
            for (String reason : verdict.reasons()) md.append("- ").append(reason).append('\n');
            StepSummary.append(md.toString());
            if (output.json) {
                JsonDocument.of(verdict.exitCode()).put("outcome", verdict.outcome()).put("backup", chosen.summary())
                        .put("scratchDatabase", run.scratchName).put("recordKey", recorded ? chosen.key().verifyKey() : null)
                        .put("reasons", verdict.reasons()).put("record", verdict.recorded() ? record : null)
                        .print(spec.commandLine().getOut());
            }
        }
    }

    /**
     * One drill: download, verify, restore into a scratch database, compare, drop. Collects the verdict
     * ({@link DrillVerdict}): what it finds wrong with the backup's data, or what the scratch server lacks to test it.
     * What is neither (S3, the network, a backup that vanished) is thrown and leaves no verdict.
     */
    static final class DrillRun {
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

        DrillRun(Chosen chosen, PgTools.Tool psql, PgTools.Tool pgRestore, ConnInfo server, PgTools.ServerVersion serverVersion,
                 VerifyRecord.RowTolerance tolerance, PrintWriter err) {
            this.manifest = chosen.manifest();
            this.psql = psql;
            this.pgRestore = pgRestore;
            this.server = server;
            this.serverVersion = serverVersion;
            this.tolerance = tolerance;
            this.err = err;
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
            PgRestore.Listing listing;
            try {
                listing = PgRestore.listFile(pgRestore, file);
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
            PgTools.query(psql, server, "create database " + Target.ident(scratchName) + " template template0");
            err.println("drill: created scratch database \"" + scratchName + "\" on " + server.host());
            try {
                long t1 = System.nanoTime();
                try {
                    PgRestore.run(pgRestore, scratch, new PgRestore.Options(false, jobs, jobs == 1, true, true), file, err);
                } catch (Failure f) {
                    // Unreachable or refused: the drill could not test the backup; that is not a verdict on it.
                    if (f.exitCode == Exit.UNAVAILABLE || f.exitCode == Exit.NO_PERMISSION || f.exitCode == Exit.CONFIG) throw f;
                    String lacks = ScratchServer.lackIn(f.getMessage(), imageMajor());
                    if (lacks != null) cannotTest(lacks);
                    else fail(Exit.FAILED, "the backup does not restore: " + f.getMessage());
                    return;
                } finally {
                    durations.put("restore", seconds(t1));
                }
                long t2 = System.nanoTime();
                compareTables(scratch, listing);
                durations.put("compare", seconds(t2));
            } finally {
                if (!Target.dropByName(psql, server, scratchName)) {
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
                return Download.toFileVerdict(s3, bucket, manifest, file, identities, err);
            } catch (Failure f) {
                // S3, the network, a dump deleted meanwhile, the local disk (Download tells them from damage): says nothing about the backup
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
        private void compareTables(ConnInfo scratch, PgRestore.Listing listing) {
            List<Manifest.TableStat> expected = manifest.tables() == null ? List.of() : manifest.tables();
            Map<List<String>, String> present = Target.userTables(psql, scratch);
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
            Map<Manifest.TableStat, Long> counts = Target.countRows(psql, scratch, toCount);
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

        /** The tables compared with an estimate only, for the report. */
        List<String> estimatedTables() {
            List<String> out = new ArrayList<>();
            for (VerifyRecord.TableCheck c : tables) {
                boolean compared = c.verdict().equals("ok") || c.verdict().equals("rows differ");
                if (!c.exact() && compared) out.add(Target.ident(c.schema()) + "." + Target.ident(c.table()));
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

        private static String qualified(Manifest.TableStat t) { return Target.ident(t.schema()) + "." + Target.ident(t.table()); }

        private static double seconds(long sinceNanos) { return Math.round((System.nanoTime() - sinceNanos) / 1e7) / 100.0; }
    }

    // ------------------------------------------------------------------------------------------------ keygen

    @Command(name = "keygen", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
            description = {"Make an age key pair for encrypted backups. The private key (identity) goes into a new file only you can read (0600);"
                + " the public key (recipient, age1...) is printed on stdout, for backup --encrypt-to or " + Age.RECIPIENTS_ENV + ".",
                "Run it on a trusted machine and keep the file, with an offline copy, outside the AWS account of the bucket: whoever holds it"
                + " can read every backup, and without it no one can restore them. The file is in age-keygen's format, so the age CLI reads it"
                + " too (age -d -i FILE); its second line repeats the public key.", ""},
            footerHeading = "%nExamples:%n",
            footer = {"  restore keygen --output pg-backups.key      (prints the public key, age1...)",
                "  restore --identity pg-backups.key --create --target-url URL"})
    static class Keygen implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--output", paramLabel = "FILE", required = true, description = "New file for the private key, created with mode 0600; an existing file is never overwritten.")
        Path file;

        @Mixin OutputOptions output = new OutputOptions();

        @Override
        public Integer call() throws Exception {
            takeParentOptions(spec);
            Age.KeyPair pair = Age.generate();
            Download.createPrivate(file); // refuses an existing file: overwriting a key would lose the backups made with it
            try {
                Files.writeString(file, pair.file(Instant.now()), StandardCharsets.US_ASCII);
            } catch (IOException e) {
                Files.deleteIfExists(file);
                throw new Failure(Exit.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
            }
            PrintWriter err = spec.commandLine().getErr();
            PrintWriter out = spec.commandLine().getOut();
            err.println("keygen: private key written to " + file + " (mode 0600). Keep it, and an offline copy, outside the bucket's AWS account:"
                    + " without it the backups encrypted to it cannot be restored.");
            err.println("keygen: public key (recipient) below: give it to backup with --encrypt-to or " + Age.RECIPIENTS_ENV
                    + "; restore with --identity " + file + " or " + Age.IDENTITY_ENV + ".");
            err.flush();
            if (output.json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("recipient", pair.recipient());
                doc.put("identityFile", file.toString());
                out.println(Json.write(doc));
            } else {
                out.println(pair.recipient());
            }
            out.flush();
            return Exit.OK;
        }
    }

    // ------------------------------------------------------------------------------------------------ shared mechanisms

    /**
     * Options typed before the subcommand (`restore --bucket b list`) count for it too, as an operator expects;
     * an option of the restore action that the subcommand does not have is a usage error, never silently ignored.
     */
    static void takeParentOptions(CommandSpec sub) {
        CommandSpec parent = sub.parent();
        if (parent == null || parent.commandLine() == null || parent.commandLine().getParseResult() == null) return;
        ParseResult before = parent.commandLine().getParseResult();
        ParseResult mine = sub.commandLine().getParseResult();
        for (OptionSpec o : before.matchedOptions()) {
            OptionSpec same = sub.findOption(o.longestName());
            if (same == null) {
                throw Failure.usage(o.longestName() + " is an option of the restore action, not of '" + sub.name() + "' (see 'restore " + sub.name() + " --help')");
            }
            if (mine == null || !mine.hasMatchedOption(same)) same.setValue(o.getValue());
        }
    }

    /**
     * --identity: the age private key of encrypted backups. From a file, or (for CI secrets, which are values, not
     * files) the key itself in BACKUP_AGE_IDENTITY; never an option value, which would put it in argv and shell history.
     */
    static class IdentityOption {
        @Option(names = "--identity", paramLabel = "FILE",
                description = "For an encrypted backup: the age identity file holding its private key (AGE-SECRET-KEY-1..., as 'restore keygen' or age-keygen"
                        + " write it). Default: the key itself from the environment variable " + Age.IDENTITY_ENV + " (e.g. a GitHub secret).")
        Path file;

        /** The identities for this backup: null when it is not encrypted; a usage error (64) when it is and none was given. */
        Age.Identities forBackup(Manifest m) {
            if (m.encryption() == null) return null;
            String scheme = m.encryption().scheme();
            if (!Age.SCHEME.equals(scheme)) {
                throw new Failure(Exit.CONFIG, "backup " + m.dumpKey() + " is encrypted with '" + scheme + "', which this " + Version.TOOL + " "
                        + Version.VERSION + " cannot decrypt: upgrade " + Version.TOOL);
            }
            Age.Identities identities = load();
            if (identities == null) {
                List<String> to = m.encryption().recipients() == null ? List.of() : m.encryption().recipients();
                throw Failure.usage("backup " + m.dumpKey() + " is encrypted with age" + (to.isEmpty() ? "" : " to " + String.join(", ", to))
                        + ": give its private key with --identity FILE, or the key itself in the environment variable " + Age.IDENTITY_ENV);
            }
            return identities;
        }

        private Age.Identities load() {
            if (file != null) return Age.Identities.read(file);
            String key = System.getenv(Age.IDENTITY_ENV);
            if (key == null || key.isBlank()) return null;
            return Age.Identities.parse(key, "the environment variable " + Age.IDENTITY_ENV);
        }
    }

    /** --name, --at, --key: which backup. Latest of the only name by default. */
    static class Selection {
        @Option(names = "--name", paramLabel = "NAME", description = "Backup name (needed when several names are under the prefix).")
        String name;

        @Option(names = "--at", paramLabel = "TIME", description = "The newest backup at or before TIME: an ISO-8601 instant (2026-11-23T02:00:00Z,"
                + " 2026-11-23T04:00:00+02:00) or a date (2026-11-23: up to the end of that day, UTC).")
        String at;

        @Option(names = "--key", paramLabel = "KEY", description = "Exactly this backup: its dump or manifest key, as 'restore list' shows it.")
        String key;

        /** Parses --at; a future time or an unreadable one is a usage error. */
        static Instant parseAt(String raw, Instant now) {
            String s = raw.strip();
            Instant at = null;
            Instant earliest = null; // for a date: its start, which must not be in the future
            try {
                at = OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException notOffset) {
                try {
                    LocalDate day = LocalDate.parse(s);
                    earliest = day.atStartOfDay(ZoneOffset.UTC).toInstant();
                    at = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minusSeconds(1);
                } catch (DateTimeParseException notDate) {
                    try {
                        at = BackupKey.parseStamp(s);
                    } catch (DateTimeParseException notStamp) {
                        try {
                            LocalDateTime.parse(s);
                            throw Failure.usage("--at '" + s + "' has no time zone: add Z for UTC (" + s + "Z) or an offset (+02:00)");
                        } catch (DateTimeParseException unreadable) {
                            throw Failure.usage("cannot read --at '" + s + "': use an ISO-8601 instant (2026-11-23T02:00:00Z, 2026-11-23T04:00:00+02:00) or a date (2026-11-23)");
                        }
                    }
                }
            }
            if ((earliest != null ? earliest : at).isAfter(now)) {
                throw Failure.usage("--at " + s + " is in the future (now is " + Iso.iso(now) + ")");
            }
            return at;
        }
    }

    /** The backup chosen by a {@link Selection}, and its manifest. */
    record Chosen(BackupListing.Entry entry, Manifest manifest, VerifyRecord drill) {
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
        static Chosen select(S3Client s3, String bucket, String prefix, Selection sel, PrintWriter err) {
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
                    throw new Failure(Exit.FAILED, "no backup " + wanted.base() + " in s3://" + bucket + "/" + nearest(entries, wanted.startedAt()));
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
                    Instant at = Selection.parseAt(sel.at, Instant.now());
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
            Manifest manifest = status.manifest().relocated(chosen.key().dumpKey());
            if (!manifest.dumpKey().equals(status.manifest().dumpKey())) {
                err.println("note: " + chosen.key().base() + " was written as " + status.manifest().dumpKey() + "; reading its copy " + chosen.key().dumpKey());
            }
            VerifyRecord drill = chosen.verified() ? VerifyRecord.read(s3, bucket, chosen.key()) : null;
            return new Chosen(chosen, manifest, drill);
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

    /** A temp dump and the lock that says its process is alive (see {@link Download#tempDump}). */
    static final class TempDump implements AutoCloseable {
        private static final String PREFIX = "pgdump-s3-";
        private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
        private final Path path;
        private final Path lockPath;
        private final java.nio.channels.FileChannel lockChannel;

        private TempDump(Path path, Path lockPath, java.nio.channels.FileChannel lockChannel) {
            this.path = path;
            this.lockPath = lockPath;
            this.lockChannel = lockChannel;
        }

        Path path() { return path; }

        java.nio.file.attribute.UserPrincipal owner() throws IOException { return Files.getOwner(lockPath); }

        /** The lock first, then the dump: a dump is never without a held lock. */
        static TempDump create(Path dir) throws IOException {
            Path lock = privateTempFile(dir, PREFIX + ProcessHandle.current().pid() + "-", ".dump.lock");
            java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE);
            try {
                try {
                    channel.tryLock();
                } catch (IOException noLocksHere) {
                    // A file system without locks: the dump is still deleted on every exit but SIGKILL, and no run here
                    // can take such a lock either, so none deletes it while this restore runs.
                }
                String name = lock.getFileName().toString();
                Path dump = dir.resolve(name.substring(0, name.length() - ".lock".length()));
                Files.deleteIfExists(dump);
                createPrivateFile(dump);
                dump.toFile().deleteOnExit();
                lock.toFile().deleteOnExit();
                return new TempDump(dump, lock, channel);
            } catch (IOException | RuntimeException e) {
                channel.close();
                Files.deleteIfExists(lock);
                throw e;
            }
        }

        /** Deletes the dump, then the lock file, then lets the lock go. */
        @Override
        public void close() throws IOException {
            try {
                Files.deleteIfExists(path);
                Files.deleteIfExists(lockPath);
            } finally {
                lockChannel.close();
            }
        }

        /**
         * Deletes the temp dumps in {@code dir} whose lock can be taken: their process is gone. Only files of this
         * user, never through a symbolic link, never one of this process (opening and closing its lock file here would
         * drop that lock: POSIX locks belong to the process). Old temp dumps without a lock file are not touched.
         * Never fails the restore: what cannot be checked or deleted is left alone.
         */
        static void removeStale(Path dir, java.nio.file.attribute.UserPrincipal me, PrintWriter err) {
            String ours = PREFIX + ProcessHandle.current().pid() + "-";
            var nofollow = java.nio.file.LinkOption.NOFOLLOW_LINKS;
            try (var locks = Files.newDirectoryStream(dir, PREFIX + "*.dump.lock")) {
                for (Path lock : locks) {
                    String name = lock.getFileName().toString();
                    Path dump = dir.resolve(name.substring(0, name.length() - ".lock".length()));
                    try {
                        if (name.startsWith(ours) || !Files.isRegularFile(lock, nofollow) || !me.equals(Files.getOwner(lock, nofollow))) continue;
                        try (var channel = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE, nofollow)) {
                            if (channel.tryLock() == null) continue; // its restore is running
                            long size = 0;
                            if (Files.isRegularFile(dump, nofollow) && me.equals(Files.getOwner(dump, nofollow))) {
                                size = Files.size(dump);
                                Files.delete(dump);
                            }
                            Files.delete(lock);
                            err.println("note: removed " + dump + " (" + Progress.size(size) + "), a temp dump left by a restore that was killed");
                        }
                    } catch (IOException | RuntimeException e) {
                        // Locked by this JVM, not ours, already gone, a file system without locks: left alone.
                    }
                }
            } catch (IOException | RuntimeException e) {
                err.println("warning: could not look for stale temp dumps in " + dir + ": " + e.getMessage());
            }
        }

        private static Path privateTempFile(Path dir, String prefix, String suffix) throws IOException {
            try {
                return Files.createTempFile(dir, prefix, suffix, OWNER_ONLY);
            } catch (UnsupportedOperationException e) {
                return Files.createTempFile(dir, prefix, suffix);
            }
        }

        /** A new file only its owner can read (0600), where the file system has POSIX permissions. */
        static void createPrivateFile(Path file) throws IOException {
            try {
                Files.createFile(file, OWNER_ONLY);
            } catch (UnsupportedOperationException e) {
                Files.createFile(file);
            }
        }
    }

    /**
     * Downloading a dump while hashing and counting it, resuming after a dropped connection. Only the stored bytes
     * give a verdict on a backup (65): a fault on the way (a body cut off, an answer shorter than S3 says the object
     * is) is retried and at worst "S3 or the network is failing" (69), and a dump deleted after it was listed
     * "vanished" (1): neither says anything about the backup, so a drill records no verdict for them.
     */
    static final class Download {
        record Result(long size, String sha256) {}

        private static final int ATTEMPTS = 5;

        static Result fetch(S3Client s3, String bucket, String key, long expectedSize, OutputStream sink, Progress progress, PrintWriter err) {
            MessageDigest sha = sha256();
            byte[] buf = new byte[256 * 1024];
            long offset = 0;
            String etag = null;
            int failures = 0;
            boolean complete = false;
            while (!complete) {
                GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(key);
                if (offset > 0) request.range("bytes=" + offset + "-").ifMatch(etag);
                boolean receiving = false;
                String broke;
                Throwable cause = null;
                try (ResponseInputStream<GetObjectResponse> in = s3.getObject(request.build())) {
                    receiving = true;
                    if (etag == null) etag = in.response().eTag();
                    Long length = in.response().contentLength();
                    if (length != null && length != expectedSize - offset) {
                        // A well-formed answer that contradicts the manifest. Whether the stored object does is S3's to say.
                        Long stored = storedSize(s3, bucket, key);
                        if (stored != null && stored != expectedSize) {
                            throw new Failure(Exit.DATA_INVALID, "the stored dump " + key + " has " + stored + " bytes, the manifest says " + expectedSize
                                    + ": the dump is damaged; choose another backup (restore list)");
                        }
                        in.abort();
                        broke = "S3 answered " + length + " bytes where " + (expectedSize - offset) + " were expected";
                    } else {
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            sha.update(buf, 0, n);
                            offset += n;
                            try {
                                sink.write(buf, 0, n);
                            } catch (IOException e) {
                                throw new Failure(Exit.FAILED, "cannot write the download: " + e.getMessage(), e);
                            }
                            progress.add(n);
                        }
                        try {
                            sink.flush();
                        } catch (IOException e) {
                            throw new Failure(Exit.FAILED, "cannot write the download: " + e.getMessage(), e);
                        }
                        // An answer without a length that ends early is a body cut off like any other; more bytes than the
                        // manifest says can only be what S3 stores, and the checksum verdict says so.
                        complete = offset >= expectedSize;
                        broke = "the answer ended at " + Progress.size(offset);
                    }
                } catch (IOException | SdkClientException e) {
                    if (complete) break; // every byte arrived; only closing the connection failed
                    // The SDK retries requests itself; what it cannot retry is a body cut off half-way: resume from there.
                    if (!receiving) throw Errors.classify(e);
                    broke = Errors.describe(e);
                    cause = e;
                } catch (NoSuchKeyException e) {
                    throw vanished(key);
                }
                if (complete) break;
                if (++failures >= ATTEMPTS) {
                    throw new Failure(Exit.UNAVAILABLE, "the download of s3://" + bucket + "/" + key + " broke off " + ATTEMPTS + " times, the last at "
                            + Progress.size(offset) + " of " + Progress.size(expectedSize) + " (" + broke + "): S3 or the network failed, not the"
                            + " backup; run the same command again", cause);
                }
                err.println("download of " + key + " interrupted after " + Progress.size(offset) + " (" + broke + "): resuming, attempt "
                        + (failures + 1) + " of " + ATTEMPTS);
                err.flush();
                try {
                    Thread.sleep(1000L * failures);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new Failure(Exit.FAILED, "interrupted while downloading " + key);
                }
            }
            progress.done();
            return new Result(offset, HexFormat.of().formatHex(sha.digest()));
        }

        /** The dump's stored size as S3 states it (HeadObject), or null when that cannot be asked: then only a retry can tell. */
        private static Long storedSize(S3Client s3, String bucket, String key) {
            try {
                return s3.headObject(b -> b.bucket(bucket).key(key)).contentLength();
            } catch (S3Exception e) {
                if (e.statusCode() == 404) throw vanished(key);
                return null;
            } catch (SdkClientException e) {
                return null;
            }
        }

        /** Deleted between the listing and the download: no verdict on the backup (exit 1, not 65). */
        static Failure vanished(String key) {
            return new Failure(Exit.FAILED, "the dump " + key + " vanished after it was listed (deleted by prune?): this says nothing about the backup's"
                    + " data; run 'restore list' and choose a backup that is still there");
        }

        /** The checksum verdict: null when size and SHA-256 match the manifest, else the 65 to throw. */
        static Failure mismatch(Manifest m, Result got) {
            if (got.size() != m.sizeBytes()) {
                return new Failure(Exit.DATA_INVALID, "size mismatch: " + m.dumpKey() + " has " + got.size() + " bytes, the manifest says " + m.sizeBytes()
                        + ": the dump is damaged; choose another backup (restore list)");
            }
            if (!got.sha256().equalsIgnoreCase(m.sha256())) {
                return new Failure(Exit.DATA_INVALID, "checksum mismatch: " + m.dumpKey() + " has SHA-256 " + got.sha256() + ", the manifest says " + m.sha256()
                        + ": the dump is corrupt or was altered; choose another backup (restore list)");
            }
            return null;
        }

        static void check(Manifest m, Result got) {
            Failure f = mismatch(m, got);
            if (f != null) throw f;
        }

        /**
         * Downloads the dump to {@code file} (0600) and checks it against the manifest (65 on mismatch). An encrypted
         * backup is decrypted on the way: the file holds the plain archive, and the checksum is that of the stored bytes.
         */
        static void toFile(S3Client s3, String bucket, Manifest m, Path file, Age.Identities identities, PrintWriter err) {
            Failure damaged = toFileVerdict(s3, bucket, m, file, identities, err);
            if (damaged != null) throw damaged;
        }

        /**
         * {@link #toFile}, returning its verdict on the stored data instead of throwing it: null when size and SHA-256
         * match the manifest (and an encrypted backup decrypted), else the 65 that says what is wrong with the backup.
         * What says nothing about the stored data is still thrown: S3 or the network failing, the local disk, and
         * whatever {@link #fetch} makes of the object's length or its absence (a drill checks those, see {@link DrillRun}).
         */
        static Failure toFileVerdict(S3Client s3, String bucket, Manifest m, Path file, Age.Identities identities, PrintWriter err) {
            // A disk that fills up meanwhile (other writers, quotas: the check before cannot see them) is 78, like that check.
            try (OutputStream out = new BufferedOutputStream(DiskSpace.guard(Files.newOutputStream(file), file.toAbsolutePath().getParent(),
                    "free space there or use a larger disk (restore and drill: --temp-dir DIR; restore --stream needs no temp file)"), 1 << 20)) {
                Age.Decrypting decrypting = decrypting(m, identities, out);
                Watched sink = decrypting == null ? null : new Watched(decrypting);
                try {
                    Result got;
                    try {
                        got = fetch(s3, bucket, m.dumpKey(), m.sizeBytes(), sink != null ? sink : out,
                                new Progress("downloading " + m.dumpKey(), err, m.sizeBytes()), err);
                    } catch (Failure f) {
                        if (sink != null && sink.failure == f && f.exitCode == Exit.DATA_INVALID) return f; // it does not decrypt (wrong key, altered): the stored data's verdict
                        throw f;
                    }
                    Failure mismatch = mismatch(m, got); // a checksum mismatch says more than the decryption failure it also causes
                    if (mismatch != null) return mismatch;
                    if (decrypting != null) {
                        try {
                            decrypting.finish();
                        } catch (Failure f) {
                            if (f.exitCode == Exit.DATA_INVALID) return f;
                            throw f;
                        }
                    }
                    return null;
                } finally {
                    if (decrypting != null) decrypting.close();
                }
            } catch (IOException e) {
                throw new Failure(Exit.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
            }
        }

        /** Remembers the failure its sink threw (the decryption's), to tell it from the download's own. */
        private static final class Watched extends OutputStream {
            private final OutputStream out;
            private Failure failure;

            Watched(OutputStream out) { this.out = out; }

            @Override
            public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    out.write(b, off, len);
                } catch (Failure f) {
                    failure = f;
                    throw f;
                }
            }

            @Override
            public void flush() throws IOException {
                try {
                    out.flush();
                } catch (Failure f) {
                    failure = f;
                    throw f;
                }
            }
        }

        /** For an encrypted backup, a sink that decrypts into {@code plain}; null for a plain one (see {@link IdentityOption#forBackup}). */
        static Age.Decrypting decrypting(Manifest m, Age.Identities identities, OutputStream plain) {
            if (m.encryption() == null) return null;
            if (identities == null) throw new IllegalStateException("encrypted backup without identities"); // IdentityOption.forBackup refused it
            return new Age.Decrypting(plain, identities, "backup " + m.dumpKey(), m.encryption().recipients());
        }

        static void checkTempDir(Path dir) {
            if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
                throw Failure.usage("--temp-dir " + dir + " is not a writable directory");
            }
        }

        /**
         * A private temp file for the dump (0600), after checking there is room for it; closing the handle deletes it.
         *
         * <p>A restore killed outright (SIGKILL, the OOM killer, a cancelled CI job) cannot delete its temp dump, and a
         * dump the size of the database left in /tmp must not be what makes the next restore fail for lack of space.
         * So each temp dump {@code pgdump-s3-PID-N.dump} has a lock file {@code ...dump.lock} on which its process holds
         * an exclusive lock for as long as the dump exists; the kernel releases it when the process dies, however it
         * dies, and across PID namespaces (containers sharing the directory). Before creating its own, a run deletes
         * the dumps whose lock it can take: their owner is gone. The lock file is a file of its own because closing any
         * descriptor of a file drops a process's POSIX locks on it, and the dump is opened and closed by the download.
         */
        static TempDump tempDump(Path dir, long size, PrintWriter err) throws IOException {
            TempDump dump = TempDump.create(dir);
            try {
                TempDump.removeStale(dir, dump.owner(), err);
                long free = Files.getFileStore(dir).getUsableSpace();
                if (free < size + (64L << 20)) {
                    throw new Failure(Exit.CONFIG, "not enough space in " + dir + " for the " + Progress.size(size) + " dump (" + Progress.size(free)
                            + " free): use --temp-dir DIR on a larger disk, or --stream to restore without a temp file");
                }
                return dump;
            } catch (IOException | RuntimeException e) {
                dump.close();
                throw e;
            }
        }

        /** A new file only its owner can read (0600): a dump holds the whole database, decrypted or not. */
        static void createPrivate(Path file) {
            try {
                TempDump.createPrivateFile(file);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw Failure.usage(file + " exists already: choose a new file name");
            } catch (IOException e) {
                throw Failure.usage("cannot create " + file + ": " + e.getMessage());
            }
        }

        static Thread drain(InputStream in, OutputStream to) {
            Thread t = new Thread(() -> {
                try (in) {
                    in.transferTo(to);
                } catch (IOException ignored) {
                    // the process is gone
                }
            }, "stdout-drain");
            t.setDaemon(true);
            t.start();
            return t;
        }

        static MessageDigest sha256() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        private Download() {}
    }

    /** Holds back the last {@code tail} bytes written until {@link #release()}: see {@link Restore#applyStreaming}. */
    static final class HoldBack extends OutputStream {
        static final int TAIL = 64 * 1024;
        private final OutputStream out;
        private final byte[] tail;
        private int held;

        HoldBack(OutputStream out, int tail) {
            this.out = out;
            this.tail = new byte[tail];
        }

        @Override
        public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (held + len <= tail.length) {
                System.arraycopy(b, off, tail, held, len);
                held += len;
                return;
            }
            int excess = held + len - tail.length;       // bytes that may go now, oldest first
            int fromTail = Math.min(excess, held);
            out.write(tail, 0, fromTail);
            int fromNew = excess - fromTail;
            out.write(b, off, fromNew);
            System.arraycopy(tail, fromTail, tail, 0, held - fromTail);
            held -= fromTail;
            System.arraycopy(b, off + fromNew, tail, held, len - fromNew);
            held += len - fromNew;
        }

        @Override
        public void flush() throws IOException { out.flush(); }

        void release() throws IOException {
            out.write(tail, 0, held);
            held = 0;
            out.flush();
        }

        @Override
        public void close() throws IOException { out.close(); }
    }

    /**
     * A sink that stops writing, without failing the download, once the reading process has gone away
     * (pg_restore stopping early on an error): the download still ends with its checksum verdict.
     */
    static final class Tolerant extends OutputStream {
        private final OutputStream out;
        private boolean broken;

        Tolerant(OutputStream out) { this.out = out; }

        boolean broken() { return broken; }

        @Override
        public void write(int b) { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) {
            if (broken) return;
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                broken = true;
            }
        }

        @Override
        public void flush() {
            if (broken) return;
            try {
                out.flush();
            } catch (IOException e) {
                broken = true;
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                broken = true;
            }
        }
    }

    /**
     * A restore interrupted by SIGTERM or Ctrl-C (a cancelled CI job) once pg_restore writes to the target: the JVM's
     * shutdown hook stops pg_restore, drops the database this run created with --create (whatever is in it is an
     * unfinished restore: nothing with one transaction, a part without) and says so, or, for a database that existed,
     * says whether anything was committed. If the drop fails, it prints the statement that drops it. After pg_restore
     * finished, nothing is dropped. (SIGKILL runs no hook: then {@link Lifeline} stops pg_restore, and the database
     * created for the restore stays, empty with one transaction.)
     */
    static final class Interruption implements AutoCloseable {
        private static final Set<Interruption> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private static volatile boolean shuttingDown;
        private static boolean hooked;

        private final PgTools.Tool psql;
        private final ConnInfo target;
        private final boolean created;
        private final boolean singleTransaction;
        volatile PgTools.Streaming pgRestore;
        /** pg_restore exited 0: the restore is in the target, whatever happens next. */
        volatile boolean committed;

        private Interruption(PgTools.Tool psql, ConnInfo target, boolean created, boolean singleTransaction) {
            this.psql = psql;
            this.target = target;
            this.created = created;
            this.singleTransaction = singleTransaction;
        }

        static synchronized Interruption watch(PgTools.Tool psql, ConnInfo target, boolean created, boolean singleTransaction) {
            if (!hooked) {
                Runtime.getRuntime().addShutdownHook(new Thread(Interruption::onShutdown, "restore-interrupted"));
                hooked = true;
            }
            Interruption i = new Interruption(psql, target, created, singleTransaction);
            RUNNING.add(i);
            return i;
        }

        static boolean shuttingDown() { return shuttingDown; }

        @Override
        public void close() { RUNNING.remove(this); }

        private static void onShutdown() {
            shuttingDown = true;
            for (Interruption i : List.copyOf(RUNNING)) System.err.println("restore: interrupted: " + i.cleanUp());
            System.err.flush();
        }

        /** Stops pg_restore, drops what this run created, and returns what is left. */
        private String cleanUp() {
            PgTools.Streaming p = pgRestore;
            if (p != null) p.close();
            String db = "\"" + target.database() + "\"";
            if (committed) return "pg_restore had finished: " + db + " holds the restored backup";
            if (created) {
                return dropCreated() ? "pg_restore stopped; the database " + db + " created for this restore was dropped"
                        : "pg_restore stopped; the database " + db + " created for this restore is left on " + target.host()
                            + " (empty, or a partial restore): drop it with DROP DATABASE " + Target.ident(target.database()) + " WITH (FORCE);";
            }
            return singleTransaction ? "pg_restore stopped before it committed: nothing from this backup was committed to " + db
                    : db + " may hold a PARTIAL restore (no single transaction): drop it, or run the restore again with --clean";
        }

        /**
         * DROP DATABASE through psql started here (zt-exec, which PgTools.query uses, cannot start a process once the
         * JVM is shutting down); from postgres, else template1; bounded: the job's runner may SIGKILL us soon.
         */
        private boolean dropCreated() {
            for (String via : List.of("postgres", "template1")) {
                ConnInfo c = target.withDatabase(via);
                List<String> cmd = List.of(psql.path().toString(), "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-d", c.withoutPassword(),
                        "-c", "drop database if exists " + Target.ident(target.database()) + " with (force)");
                try (PgTools.Streaming drop = PgTools.start(cmd, c.childEnvironment())) {
                    drop.stdin().close();
                    Download.drain(drop.stdout(), OutputStream.nullOutputStream());
                    if (drop.process().waitFor(15, java.util.concurrent.TimeUnit.SECONDS) && drop.waitFor() == 0) return true;
                } catch (Exception e) {
                    // try the next maintenance database, then report what is left
                }
            }
            return false;
        }
    }

    /** Writes everything to two streams (the download into two pg_restore processes). */
    static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException { write(new byte[] {(byte) x}, 0, 1); }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }

    /** Choosing and running pg_restore. */
    static final class PgRestore {
        record Options(boolean clean, int jobs, boolean singleTransaction, boolean noOwner, boolean noAcl) {}

        /** The archive's table of contents as `pg_restore --list` prints it. */
        record Listing(List<String> lines) {
            /** TOC entries: the lines that are not comments (the same count backup.java records). */
            int entries() { return (int) lines.stream().filter(l -> !l.isBlank() && !l.startsWith(";")).count(); }

            /** Whether the archive holds a TABLE DATA entry for schema.table ("ID; OID OID TABLE DATA schema table owner"). */
            boolean hasDataFor(String schema, String table) {
                String needle = " TABLE DATA " + schema + " " + table;
                return lines.stream().anyMatch(l -> !l.startsWith(";") && (l.contains(needle + " ") || l.endsWith(needle)));
            }

            static Listing of(String stdout) { return new Listing(stdout.lines().toList()); }
        }

        /**
         * The pg_restore for this restore: not older than the target server (like pg_dump in backup.java) and not
         * older than the pg_dump that wrote the archive (an older pg_restore cannot read a newer archive).
         */
        static PgTools.Tool choose(String explicit, int serverMajor, Manifest m) {
            int dumpMajor = PgTools.majorOf(m.pgDumpVersion());
            try {
                return PgTools.select("pg_restore", explicit, Math.max(serverMajor, dumpMajor));
            } catch (Failure f) {
                if (dumpMajor > serverMajor) {
                    throw new Failure(f.exitCode, f.getMessage() + " (the backup was written by pg_dump " + m.pgDumpVersion()
                            + ", and an older pg_restore cannot read its archive)");
                }
                throw f;
            }
        }

        static List<String> command(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file) {
            List<String> cmd = new ArrayList<>(List.of(pgRestore.path().toString(), "--exit-on-error", "--dbname", db.withoutPassword()));
            if (how.noOwner()) cmd.add("--no-owner");
            if (how.noAcl()) cmd.add("--no-acl");
            if (how.clean()) cmd.addAll(List.of("--clean", "--if-exists"));
            if (how.jobs() > 1) cmd.addAll(List.of("--jobs", String.valueOf(how.jobs())));
            else if (how.singleTransaction()) cmd.add("--single-transaction");
            if (file != null) cmd.add(file.toString());
            return cmd;
        }

        /** Restores {@code file} into {@code db}; pg_restore's failure becomes a Failure with its own messages. */
        static void run(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file, PrintWriter err) throws Exception {
            run(pgRestore, db, how, file, err, null);
        }

        /** The same, told to {@code watch} (null: none), which stops it on SIGTERM; it never outlives the JVM ({@link Lifeline}). */
        static void run(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file, PrintWriter err, Interruption watch) throws Exception {
            err.println("restore: pg_restore " + pgRestore.version() + " into \"" + db.database() + "\" ("
                    + (how.jobs() > 1 ? how.jobs() + " jobs" : how.singleTransaction() ? "one transaction" : "no single transaction")
                    + (how.noOwner() ? ", --no-owner" : "") + (how.noAcl() ? ", --no-acl" : "") + (how.clean() ? ", --clean" : "") + ")");
            err.flush();
            try (PgTools.Streaming p = PgTools.start(Lifeline.wrap(command(pgRestore, db, how, file)), db.childEnvironment())) {
                if (watch != null) watch.pgRestore = p;
                p.stdin().close();
                Thread drain = Download.drain(p.stdout(), OutputStream.nullOutputStream());
                int code = p.waitFor();
                if (code == 0 && watch != null) watch.committed = true;
                drain.join(10_000);
                if (code != 0) throw Errors.fromPgTool("pg_restore", code, p.stderr());
            }
        }

        /** `pg_restore --list FILE`: an archive pg_restore cannot read is invalid backup data (65). */
        /** pg_restore --list failed on the archive: the dump is damaged (exit 65). */
        private static Failure unreadable(String stderr) {
            return new Failure(Exit.DATA_INVALID, "pg_restore cannot read the archive (" + Errors.lastLines(stderr, 3) + "): the dump is corrupt");
        }

        static Listing listFile(PgTools.Tool pgRestore, Path file) {
            PgTools.Result r = PgTools.run(List.of(pgRestore.path().toString(), "--list", file.toString()), Map.of(), null, 600);
            if (r.exitCode() != 0) {
                throw unreadable(r.stderr());
            }
            return Listing.of(r.stdout());
        }

        /** What reading a whole archive found: its table of contents, and the rows of each table's data (null when not counted). */
        record Read(Listing listing, Map<List<String>, Long> rows) {
            long total() { return rows == null ? 0 : rows.values().stream().mapToLong(Long::longValue).sum(); }
        }

        /** Reads every data block of {@code file}: `pg_restore --list`, then the whole archive through {@link ArchiveRows}. */
        static Read readFile(PgTools.Tool pgRestore, Path file, Manifest m) throws Exception {
            Listing listing = listFile(pgRestore, file);
            ArchiveRows rows = ArchiveRows.start(pgRestore, pgDumpArgs(m));
            try (InputStream in = Files.newInputStream(file)) {
                in.transferTo(feeding(rows));
            } catch (IOException | RuntimeException e) {
                rows.close();
                throw Errors.classify(e);
            }
            return new Read(listing, counted(rows.finish()));
        }

        /**
         * Verify without disk space: downloads the dump while hashing (and decrypting) it into two pg_restore processes,
         * `--list` for the table of contents and {@link ArchiveRows} (pg_restore --data-only) for the data: pg_restore
         * then reads and decompresses every data block (a truncated or corrupt archive fails it), and the rows of each
         * table are counted the way backup counted them for the manifest.
         */
        static Read readStreaming(S3Client s3, String bucket, Manifest m, PgTools.Tool pgRestore, Age.Identities identities, String label,
                                  PrintWriter err) throws Exception {
            ArchiveRows rows = ArchiveRows.start(pgRestore, pgDumpArgs(m));
            boolean finished = false;
            try (PgTools.Streaming list = PgTools.start(List.of(pgRestore.path().toString(), "--list"), Map.of())) {
                ByteArrayOutputStream listing = new ByteArrayOutputStream();
                Thread listReader = Download.drain(list.stdout(), listing);
                // Its own Tolerant: --list stops reading after the table of contents, which must not stop the data's reader.
                Tolerant toList = new Tolerant(new BufferedOutputStream(list.stdin(), 256 * 1024));
                OutputStream sink = new Tee(toList, new BufferedOutputStream(feeding(rows), 256 * 1024));
                Age.Decrypting decrypting = Download.decrypting(m, identities, sink);
                Download.Result got;
                try {
                    got = Download.fetch(s3, bucket, m.dumpKey(), m.sizeBytes(), decrypting != null ? decrypting : sink,
                            new Progress("verify: downloading " + label, err, m.sizeBytes()), err);
                    if (decrypting != null) {
                        Download.check(m, got); // a checksum mismatch says more than the decryption failure it also causes
                        decrypting.finish();
                    }
                    sink.flush();
                } finally {
                    if (decrypting != null) decrypting.close();
                }
                toList.close();
                int listCode = list.waitFor();
                listReader.join(10_000);
                ArchiveRows.Result data = rows.finish();
                finished = true;
                Download.check(m, got);
                if (listCode != 0) throw unreadable(list.stderr());
                return new Read(Listing.of(listing.toString(StandardCharsets.UTF_8)), counted(data));
            } finally {
                if (!finished) rows.close();
            }
        }

        /** The bytes of an archive into {@link ArchiveRows} (it tolerates a pg_restore that stopped reading). */
        private static OutputStream feeding(ArchiveRows rows) {
            return new OutputStream() {
                @Override
                public void write(int b) { write(new byte[] {(byte) b}, 0, 1); }

                @Override
                public void write(byte[] b, int off, int len) { rows.feed(b, off, len); }
            };
        }

        /** An archive pg_restore cannot read to its end is 65; the rows per table, or null when they could not be counted. */
        private static Map<List<String>, Long> counted(ArchiveRows.Result data) {
            if (!data.readable()) throw new Failure(Exit.DATA_INVALID, "the archive's data cannot be read: " + data.problem() + ": the dump is corrupt or cut short");
            return data.counted() ? data.rows() : null;
        }

        private static List<String> pgDumpArgs(Manifest m) { return m.pgDumpArgs() == null ? List.of() : m.pgDumpArgs(); }

        /**
         * The archive's rows compared with the manifest's archiveRows (what backup counted in the same archive): one line
         * per table that differs, empty when all agree or the manifest has no such counts.
         */
        static List<String> rowsDiffer(Manifest m, Map<List<String>, Long> rows) {
            List<String> differ = new ArrayList<>();
            if (m.tables() == null) return differ;
            for (Manifest.TableStat t : m.tables()) {
                if (t.archiveRows() == null) continue;
                if (rows == null) {
                    differ.add("the archive's rows could not be counted (the manifest recorded them for " + Target.ident(t.schema()) + "."
                            + Target.ident(t.table()) + " and others)");
                    break;
                }
                long n = rows.getOrDefault(List.of(t.schema(), t.table()), 0L);
                if (n != t.archiveRows()) {
                    differ.add(Target.ident(t.schema()) + "." + Target.ident(t.table()) + ": the archive holds " + n + " rows, the manifest recorded "
                            + t.archiveRows());
                }
            }
            return differ;
        }

        /** Tables whose rows the manifest recorded as the archive's (archiveRows). */
        static long archiveCounted(Manifest m) {
            return m.tables() == null ? 0 : m.tables().stream().filter(t -> t.archiveRows() != null).count();
        }

        private PgRestore() {}
    }

    /** The database a restore writes to: does it exist, what server, what is in it; creating and dropping. */
    static final class Target {
        /** @param objects user tables, views, sequences (not from extensions); examples: a few of their names */
        record State(boolean exists, PgTools.ServerVersion server, long objects, long tables, List<String> examples) {}

        private static final String USER_RELATIONS = "from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                + " where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and n.nspname not in ('pg_catalog', 'information_schema')"
                + " and n.nspname !~ '^pg_' and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass"
                + " and d.objid = c.oid and d.deptype = 'e')";

        static State inspect(PgTools.Tool psql, ConnInfo target) {
            PgTools.ServerVersion server;
            try {
                server = PgTools.serverVersion(psql, target);
            } catch (Failure f) {
                if (f.exitCode == Exit.USAGE && f.getMessage().contains("does not exist")) {
                    return new State(false, PgTools.serverVersion(psql, maintenance(psql, target)), 0, 0, List.of());
                }
                throw f;
            }
            String counts = PgTools.query(psql, target, "select count(*) || ' ' || count(*) filter (where c.relkind in ('r', 'p')) " + USER_RELATIONS);
            String[] n = counts.split(" ");
            String names = PgTools.query(psql, target, "select format('%I.%I', n.nspname, c.relname) " + USER_RELATIONS + " order by 1 limit 3");
            return new State(true, server, Long.parseLong(n[0]), Long.parseLong(n[1]), names.isBlank() ? List.of() : names.lines().toList());
        }

        /** A database on the target's server to run CREATE/DROP DATABASE from: postgres, else template1. */
        static ConnInfo maintenance(PgTools.Tool psql, ConnInfo target) {
            Failure last = null;
            for (String db : List.of("postgres", "template1")) {
                ConnInfo c = target.withDatabase(db);
                try {
                    PgTools.query(psql, c, "select 1");
                    return c;
                } catch (Failure f) {
                    last = f;
                }
            }
            throw new Failure(last.exitCode, "cannot reach a maintenance database (postgres, template1) on " + target.host() + " to create \""
                    + target.database() + "\": " + last.getMessage() + "; create the database yourself");
        }

        /** CREATE DATABASE from template0 (an empty database, whatever template1 holds). */
        static boolean create(PgTools.Tool psql, ConnInfo target, PrintWriter err) {
            PgTools.query(psql, maintenance(psql, target), "create database " + ident(target.database()) + " template template0");
            err.println("restore: created database \"" + target.database() + "\" on " + target.host());
            return true;
        }

        static boolean drop(PgTools.Tool psql, ConnInfo target, PrintWriter err) {
            try {
                return dropByName(psql, maintenance(psql, target), target.database());
            } catch (Failure f) {
                return false;
            }
        }

        static boolean dropByName(PgTools.Tool psql, ConnInfo via, String database) {
            try {
                PgTools.query(psql, via, "drop database if exists " + ident(database) + " with (force)");
                return true;
            } catch (Failure f) {
                return false;
            }
        }

        /**
         * The user tables of a database and their relkind ('r' ordinary, 'p' partitioned), keyed by [schema, table]:
         * ordinary and partitioned tables outside pg_catalog, information_schema and the pg_* schemas. The restore side's
         * one definition, the same as backup's for the manifest (lib/UserTables.java on the backup-truth branch).
         */
        static Map<List<String>, String> userTables(PgTools.Tool psql, ConnInfo db) {
            String json = PgTools.query(psql, db, "select coalesce(json_agg(json_build_array(n.nspname, c.relname, c.relkind)), '[]') from pg_class c"
                    + " join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p')"
                    + " and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'");
            Map<List<String>, String> tables = new LinkedHashMap<>();
            try {
                for (var row : Json.MAPPER.readTree(json)) tables.put(List.of(row.get(0).asText(), row.get(1).asText()), row.get(2).asText());
            } catch (IOException e) {
                throw new Failure(Exit.FAILED, "cannot read the list of restored tables: " + e.getMessage());
            }
            return tables;
        }

        /**
         * Each table's own rows (count(*) FROM ONLY, as backup counts them: an inheritance parent's children are counted
         * as themselves, a partitioned table has none), a few hundred tables per psql call; keys are the given stats.
         */
        static Map<Manifest.TableStat, Long> countRows(PgTools.Tool psql, ConnInfo db, List<Manifest.TableStat> tables) {
            Map<Manifest.TableStat, Long> counts = new LinkedHashMap<>();
            for (int from = 0; from < tables.size(); from += 200) {
                List<Manifest.TableStat> batch = tables.subList(from, Math.min(tables.size(), from + 200));
                StringBuilder sql = new StringBuilder();
                for (int i = 0; i < batch.size(); i++) {
                    if (i > 0) sql.append(" union all ");
                    sql.append("select ").append(i).append(", count(*) from only ").append(ident(batch.get(i).schema())).append('.').append(ident(batch.get(i).table()));
                }
                for (String line : PgTools.query(psql, db, sql.toString()).lines().toList()) {
                    String[] parts = line.split("\\|");
                    counts.put(batch.get(Integer.parseInt(parts[0])), Long.parseLong(parts[1]));
                }
            }
            return counts;
        }

        /** A double-quoted SQL identifier. */
        static String ident(String name) { return "\"" + name.replace("\"", "\"\"") + "\""; }

        private Target() {}
    }

    /** ISO-8601 instants as operators read and type them (--at): 2026-11-23T02:00:00Z. */
    static final class Iso {
        static String iso(Instant t) { return t.truncatedTo(ChronoUnit.SECONDS).toString(); }

        private Iso() {}
    }
}
