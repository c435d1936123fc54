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
//SOURCES lib/ActionsAnnotator.java
//SOURCES lib/JsonDocument.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/Digests.java
//SOURCES lib/Threads.java
//SOURCES lib/TextTable.java
//SOURCES lib/Markdown.java
//SOURCES lib/Iso.java
//SOURCES lib/BackupKey.java
//SOURCES lib/Manifest.java
//SOURCES lib/ConnInfo.java
//SOURCES lib/PgTools.java
//SOURCES lib/Lifeline.java
//SOURCES lib/ChildEnvironment.java
//SOURCES lib/ServiceFile.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StoreProfile.java
//SOURCES lib/StorageOptions.java
//SOURCES lib/Progress.java
//SOURCES lib/BackupStatus.java
//SOURCES lib/BackupListing.java
//SOURCES lib/VerifyRecord.java
//SOURCES lib/Age.java
//SOURCES lib/DiskSpace.java
//SOURCES lib/ArchiveRows.java
//SOURCES lib/DrillVerdict.java
//SOURCES lib/ScratchServer.java
//SOURCES lib/ServerIdentity.java
//SOURCES lib/UserTables.java
//SOURCES lib/ParentOptions.java
//SOURCES lib/RestoreCommonOptions.java
//SOURCES lib/RestoreBackupOptions.java
//SOURCES lib/AgeIdentityOption.java
//SOURCES lib/BackupSelection.java
//SOURCES lib/BackupChoice.java
//SOURCES lib/ListedBackup.java
//SOURCES lib/PrivateFile.java
//SOURCES lib/TempDump.java
//SOURCES lib/OutputDrain.java
//SOURCES lib/VerifiedDownload.java
//SOURCES lib/HoldBackStream.java
//SOURCES lib/TolerantStream.java
//SOURCES lib/TeeStream.java
//SOURCES lib/TocEntries.java
//SOURCES lib/TocListing.java
//SOURCES lib/ArchiveRead.java
//SOURCES lib/PgRestoreRun.java
//SOURCES lib/RestoreInterruption.java
//SOURCES lib/RestoreTarget.java
//SOURCES lib/TargetRestore.java
//SOURCES lib/DirectoryArchive.java
//SOURCES lib/PipelinedRestore.java
//SOURCES lib/RestoreDrill.java
//SOURCES lib/ArchiveToc.java
//SOURCES lib/TocSelection.java
//SOURCES lib/ArchiveRoles.java
//SOURCES lib/RestoreProgress.java
//SOURCES lib/ServerCompatibility.java
//SOURCES lib/RowSecurity.java
//SOURCES lib/RemoteToc.java
//SOURCES lib/SelectiveTarget.java
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
//SOURCES lib/Stopwatch.java

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * restore: list, verify, restore and drill the backups written by backup (docs/architecture.md#s3-layout,
 * #cli-conventions, #safety-rules).
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
 * The mechanisms they share are in lib/: the options ({@link RestoreBackupOptions}), choosing a backup
 * ({@link BackupChoice}), the download checked against the manifest ({@link VerifiedDownload}), the temp dump and
 * its lock ({@link TempDump}), pg_restore ({@link PgRestoreRun}, {@link ArchiveRead}), the target
 * ({@link RestoreTarget}, {@link TargetRestore}) and the drill ({@link RestoreDrill}).
 */
@Command(name = "restore", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        subcommands = {
            Restore.ListBackups.class,
            Restore.Verify.class,
            Restore.Drill.class,
            Restore.Keygen.class,
            CheckCommand.class,
            AutoComplete.GenerateCompletion.class,
        },
        description = {
            "Restore a backup into a database: the latest by default, or the one chosen with --at or --key.",
            "Nothing touches the target before the backup is downloaded and checked (size, SHA-256, archive readable);"
                + " pg_restore then runs in one transaction, so a failed restore leaves the target as it was.",
            "Refuses a target that already has tables (unless --clean or --force) and the database the backup came from (unless --force).",
            "",
            "An encrypted backup (backup --encrypt-to) needs its private key: --identity FILE or BACKUP_AGE_IDENTITY.",
            "",
            "Subcommands: 'list' shows the backups, 'verify' checks one without a database, 'drill' proves one restores,"
                + " 'keygen' makes a key pair for encrypted backups, 'check' watches that every database has a fresh, proven backup,"
                + " 'generate-completion' prints a bash/zsh completion script.",
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

    // Not picocli negatable options: those make "--owner --no-owner" the same option given twice ("should be specified
    // only once"), where an operator is told the two contradict each other.
    @Option(names = "--table", paramLabel = "NAME", description = "Restore only this table (or view, materialized view, sequence) with what belongs to it:"
            + " constraints, indexes, triggers, RLS policies, owned sequences, comments, grants. Repeatable. Exact, case-sensitive names as"
            + " pg_restore -t (any schema), or schema.name.")
    List<String> tables = new ArrayList<>();

    @Option(names = "--schema", paramLabel = "NAME", description = "Restore only this schema with everything in it (repeatable; exact name as pg_restore -n).")
    List<String> schemas = new ArrayList<>();

    @Option(names = "--list-contents", description = "Print what the backup holds (kind, schema, name, owner), read from the start of the backup in S3"
            + " without downloading it; no target database needed.")
    boolean listContents;

    @Option(names = "--owner", description = "Keep the backup's object owners (default: kept when every role the backup names exists on the target and you may act for the owners).")
    boolean keepOwner;

    @Option(names = "--no-owner", description = "Objects belong to the user you restore as.")
    boolean noOwner;

    @Option(names = "--acl", description = "Restore GRANTs/REVOKEs (default: as for --owner).")
    boolean keepAcl;

    @Option(names = "--no-acl", description = "No GRANT/REVOKE statements.")
    boolean noAcl;

    @Option(names = "--no-single-transaction", description = "Do not wrap the restore in one transaction (e.g. when it runs out of locks: max_locks_per_transaction).")
    boolean noSingleTransaction;

    @Option(names = "--pg-restore", paramLabel = "PATH", description = "pg_restore to use (default: the one matching the target server and the backup's pg_dump version).")
    String pgRestorePath;

    @Mixin RestoreBackupOptions backup = new RestoreBackupOptions();

    public static void main(String[] args) { Cli.main(new Restore(), args); }

    @Override
    public Integer call() throws Exception {
        backup.common.begin(spec);
        PrintWriter err = spec.commandLine().getErr();
        if (listContents) return listContents(err);
        if (targetUrl == null || targetUrl.isBlank()) {
            throw Failure.usage("no target database: give --target-url URL or set RESTORE_DATABASE_URL"
                    + " (best a new database, with --create); 'restore list' shows the backups");
        }
        ConnInfo target = ConnInfo.parse(targetUrl);
        if (jobs < 1) throw Failure.usage("--jobs must be 1 or more, not " + jobs);
        if (stream && jobs > 1) throw Failure.usage("--jobs needs the downloaded file: drop --stream, or use --jobs 1");
        if (keepOwner && noOwner) throw Failure.usage("--owner and --no-owner contradict each other");
        if (keepAcl && noAcl) throw Failure.usage("--acl and --no-acl contradict each other");
        boolean selective = !tables.isEmpty() || !schemas.isEmpty();
        if (selective && stream) throw Failure.usage("--table/--schema need the downloaded file: drop --stream");
        if (!stream) TempDump.checkDir(tempDir);
        boolean singleTransaction = jobs == 1 && !noSingleTransaction;
        Instant started = Instant.now();

        try (S3Client s3 = backup.common.s3()) {
            BackupChoice chosen = backup.choose(s3, err);
            Manifest m = chosen.manifest();
            Age.Identities identities = backup.identity.forBackup(m);
            if (stream && m.directory()) {
                throw Failure.usage("this backup is in directory format (backup --parallel): each object is downloaded and checked before pg_restore"
                        + " reads it; drop --stream (--jobs N restores with N pg_restore jobs)");
            }
            err.println("restore: backup " + chosen.describe());
            chosen.checkListedSize();
            err.println("restore: target " + target.redacted());

            PgTools.Tool psql = PgTools.anyPsql();
            RestoreTarget.State state = RestoreTarget.inspect(psql, target);
            // Up front, before any download: an archive cannot go into a server older than its pg_dump.
            Failure tooOld = ServerCompatibility.refusal(m.pgDumpVersion(), state.server().major(), state.server().version());
            if (tooOld != null) throw tooOld;
            // Chosen objects only: nothing else in the target is touched, so a non-empty target (even the source) is fine;
            // the chosen ones must not be there unless --clean (SelectiveTarget below).
            RestoreTarget.refuseUnsafe(state, psql, target, m, create, clean || selective, force || selective);

            // The table of contents from the backup's first bytes (no download): the names, what belongs to them, the roles.
            ArchiveToc toc = RemoteToc.read(s3, backup.common.bucket(), m.directory() ? m.dumpKey() + "toc.dat" : m.dumpKey(), m.encryption(), identities);
            TocSelection.Result selection = null;
            if (selective) {
                selection = TocSelection.choose(toc, tables, schemas, state.exists() && state.objects() > 0);
                if (state.exists()) SelectiveTarget.refuse(psql, target, selection, toc, clean);
                err.println("restore: only " + String.join(", ", selection.chosen()) + ", with what belongs to "
                        + (selection.chosen().size() == 1 ? "it" : "them") + " (" + selection.objects() + " objects)");
                for (String l : selection.leftOut()) err.println("restore: left out: " + l);
            }
            ArchiveRoles roles = ArchiveRoles.of(selective ? selection.entries() : toc.entries);
            ArchiveRoles.Decision owners = roles.decide(ArchiveRoles.target(psql, state.exists() ? target : RestoreTarget.maintenance(psql, target)),
                    keepOwner ? Boolean.TRUE : noOwner ? Boolean.FALSE : null, keepAcl ? Boolean.TRUE : noAcl ? Boolean.FALSE : null);
            if (!owners.policyMissing().isEmpty()) {
                throw new Failure(Exit.CONFIG, "row-level security policies in this backup name roles the target does not have: "
                        + String.join(", ", owners.policyMissing()) + ": create them on the target first (pg_dumpall --roles-only on the source server"
                        + " gives their CREATE ROLE statements); pg_restore cannot create the policies without them");
            }
            err.println("restore: " + owners.message());
            PgTools.Tool pgRestore = PgRestoreRun.choose(pgRestorePath, state.server().major(), m);
            err.println("restore: target server " + state.server().version() + (state.exists() ? "" : "; the database will be created")
                    + "; using " + pgRestore.path() + " " + pgRestore.version());

            PgRestoreRun.Options how = new PgRestoreRun.Options(clean, jobs, singleTransaction, !owners.keepOwners(), !owners.keepAcl());
            // A REFRESH MATERIALIZED VIEW over a FORCE RLS table fails under pg_restore's row_security = off (lib/RowSecurity).
            if (RowSecurity.needed(selective ? selection.entries() : toc.entries)) {
                how = how.withRowSecurity(true);
                err.println("restore: " + RowSecurity.WHY);
                if (!owners.keepOwners()) err.println("restore: " + RowSecurity.NOT_OWNERS);
            }
            TargetRestore restore = new TargetRestore(s3, backup.common.bucket(), chosen, target, state, psql, pgRestore, how, identities, err);
            int objects = RestoreProgress.objects(selective ? selection.entries() : toc.entries, how.noAcl());
            TargetRestore.Applied applied = stream ? restore.streaming() : restore.fromFile(tempDir, selection, objects);

            double seconds = Duration.between(started, Instant.now()).toMillis() / 1000.0;
            long tables = RestoreTarget.inspect(psql, target).tables();
            err.printf(Locale.ROOT, "restore: done in %.0f s: %s restored into \"%s\" (%d table%s)%n", seconds, chosen.key().base(), target.database(),
                    tables, tables == 1 ? "" : "s");
            err.println("next: run ANALYZE on it (vacuumdb --analyze-in-stages), check it with your application, then switch"
                    + " your application's DATABASE_URL over to it (see the README's restore runbook)");
            StepSummary.append(new Markdown().heading("restore").table("lll", "backup", "target", "result")
                    .row(new Markdown.Raw(Markdown.code(chosen.key().dumpKey())), new Markdown.Raw(Markdown.code(target.redacted())),
                            "restored in " + Math.round(seconds) + " s, " + tables + " tables").end().toString());
            if (backup.common.json()) {
                JsonDocument.of(Exit.OK).put("outcome", "restored").put("backup", chosen.summary())
                        .put("target", target.redacted()).put("database", target.database()).put("created", applied.created())
                        .put("mode", stream ? "stream" : applied.pipelined() ? "pipelined" : "file").put("jobs", jobs)
                        .put("singleTransaction", singleTransaction && !applied.pipelined())
                        .put("tocEntries", applied.tocEntries()).put("tables", tables).put("pgRestoreVersion", pgRestore.version())
                        .put("serverVersion", state.server().version()).put("seconds", seconds)
                        .put("owners", owners.keepOwners()).put("grants", owners.keepAcl()).put("enableRowSecurity", how.enableRowSecurity()).put("missingRoles", owners.missing())
                        .put("only", selective ? selection.chosen() : null).put("leftOut", selective ? selection.leftOut() : null)
                        .print(spec.commandLine().getOut());
            }
            return Exit.OK;
        }
    }

    /** --list-contents: the chosen backup's objects from its table of contents, read from the start of the object in S3. */
    private Integer listContents(PrintWriter err) {
        try (S3Client s3 = backup.common.s3()) {
            BackupChoice chosen = backup.choose(s3, err);
            Manifest m = chosen.manifest();
            err.println("restore: backup " + chosen.describe());
            ArchiveToc toc = RemoteToc.read(s3, backup.common.bucket(), m.directory() ? m.dumpKey() + "toc.dat" : m.dumpKey(), m.encryption(), backup.identity.forBackup(m));
            TextTable table = new TextTable("KIND", "SCHEMA", "NAME", "OWNER");
            List<Map<String, Object>> objects = new ArrayList<>();
            for (ArchiveToc.Entry e : toc.entries) {
                if (TocSelection.BELONGING.contains(e.desc()) && !e.desc().equals("SEQUENCE")) continue; // parts of others: shown with them
                if (List.of("ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE", "DATABASE PROPERTIES").contains(e.desc())) continue;
                table.row(e.desc(), e.namespace() == null || e.namespace().isEmpty() ? "-" : e.namespace(), e.tag(), e.owner() == null ? "" : e.owner());
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("kind", e.desc());
                o.put("schema", e.namespace() == null || e.namespace().isEmpty() ? null : e.namespace());
                o.put("name", e.tag());
                o.put("owner", e.owner());
                objects.add(o);
            }
            err.println("restore: " + objects.size() + " objects (and " + (toc.entries.size() - objects.size()) + " entries that belong to them:"
                    + " data, constraints, indexes, grants, ...), written by pg_dump " + toc.pgDumpVersion + "; restore one with --table NAME or --schema NAME");
            if (backup.common.json()) {
                JsonDocument.of(Exit.OK).put("backup", chosen.summary()).put("pgDumpVersion", toc.pgDumpVersion).put("tocEntries", toc.entries.size())
                        .put("objects", objects).print(spec.commandLine().getOut());
            } else {
                spec.commandLine().getOut().print(table.render());
                spec.commandLine().getOut().flush();
            }
            return Exit.OK;
        }
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

        @Mixin RestoreCommonOptions common = new RestoreCommonOptions();

        @Override
        public Integer call() throws Exception {
            common.begin(spec);
            String only = name == null ? null : BackupKey.nameOption(name);
            List<ListedBackup> rows;
            int hidden = 0;
            try (S3Client s3 = common.s3()) {
                List<BackupListing.Entry> shown = new ArrayList<>();
                for (BackupListing.Entry e : BackupListing.list(s3, common.bucket(), common.prefix(), only)) {
                    if (e.status().hasManifest() || (all && e.incomplete())) shown.add(e);
                    else if (e.incomplete()) hidden++;
                }
                rows = new ArrayList<>(ListedBackup.read(s3, common.bucket(), shown));
            }
            rows.sort(Comparator.comparing((ListedBackup r) -> r.entry().key().startedAt()).reversed().thenComparing(r -> r.entry().key().name()));
            String where = "s3://" + common.bucket() + "/" + common.prefix() + "/" + (only == null ? "" : only + "/");
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (common.json()) {
                JsonDocument.of(Exit.OK).put("bucket", common.bucket()).put("prefix", common.prefix()).put("name", only)
                        .put("backups", rows.stream().map(ListedBackup::json).toList()).put("incompleteHidden", hidden)
                        .print(out);
                return Exit.OK;
            }
            if (rows.isEmpty()) {
                err.println("no backups under " + where + (hidden > 0 ? " (" + hidden + " incomplete: --all shows them)" : ""));
                return Exit.OK;
            }
            TextTable table = new TextTable(ListedBackup.HEADER);
            for (ListedBackup r : rows) table.row((Object[]) r.cells());
            out.print(table.render());
            out.flush();
            long names = rows.stream().map(r -> r.entry().key().name()).distinct().count();
            long notComplete = rows.stream().filter(r -> !r.entry().complete() && !r.entry().incomplete()).count();
            err.println(rows.size() + " backup" + (rows.size() == 1 ? "" : "s") + " of " + names + " name" + (names == 1 ? "" : "s") + " under " + where
                    + (notComplete > 0 ? "; " + notComplete + " NOT COMPLETE (never restored: the STATUS column says why)" : "")
                    + (hidden > 0 ? "; " + hidden + " incomplete not shown (--all shows them)" : ""));
            return Exit.OK;
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

        @Mixin RestoreBackupOptions backup = new RestoreBackupOptions();

        @Override
        public Integer call() throws Exception {
            backup.common.begin(spec);
            PrintWriter err = spec.commandLine().getErr();
            if (outputFile != null && Files.exists(outputFile)) throw Failure.usage("--output " + outputFile + " exists already: choose a new file name");
            Instant started = Instant.now();
            try (S3Client s3 = backup.common.s3()) {
                BackupChoice chosen = backup.choose(s3, err);
                Manifest m = chosen.manifest();
                err.println("verify: backup " + chosen.describe());
                chosen.checkListedSize();
                Age.Identities identities = backup.identity.forBackup(m);
                PgTools.Tool pgRestore = PgRestoreRun.choose(pgRestorePath, 0, m);
                ArchiveRead read;
                if (m.directory()) {
                    // backup --parallel: each object's size and SHA-256 (and decryption) checked into a private temp directory,
                    // then pg_restore lists the TOC and reads every data file to the end.
                    if (outputFile != null) throw Failure.usage("--output keeps one dump file; this backup is in directory format (backup --parallel)");
                    try (TempDump temp = TempDump.create(Path.of(System.getProperty("java.io.tmpdir")), m.sizeBytes(), err)) {
                        Path dir = DirectoryArchive.download(s3, backup.common.bucket(), m, identities, temp.path(), 4, err);
                        try {
                            TocListing toc = PgRestoreRun.listFile(pgRestore, dir);
                            DirectoryArchive.readAll(pgRestore, dir);
                            read = new ArchiveRead(toc, null);
                        } finally {
                            DirectoryArchive.delete(dir);
                        }
                    }
                } else if (outputFile != null) {
                    try {
                        PrivateFile.create(outputFile);
                        VerifiedDownload.toFile(s3, backup.common.bucket(), m, outputFile, identities, err);
                        read = ArchiveRead.readFile(pgRestore, outputFile, m);
                    } catch (RuntimeException e) {
                        Files.deleteIfExists(outputFile);
                        throw e;
                    }
                } else {
                    read = ArchiveRead.readStreaming(s3, backup.common.bucket(), m, pgRestore, identities, chosen.key().base(), err);
                }
                TocListing listing = read.listing();
                try {
                    read.check(m, chosen.key().base());
                } catch (Failure damaged) {
                    if (outputFile != null) Files.deleteIfExists(outputFile); // a dump that failed a check is not kept
                    throw damaged;
                }
                long compared = ArchiveRead.archiveCounted(m);
                double seconds = Duration.between(started, Instant.now()).toMillis() / 1000.0;
                String what = "size (" + Progress.size(m.sizeBytes()) + ") and SHA-256 match the manifest"
                        + (identities == null ? "" : ", decrypted with age") + ", pg_restore reads " + listing.entries() + " TOC entries and every data block ("
                        + read.describeRows(m) + ")";
                err.printf(Locale.ROOT, "verify: OK in %.0f s: %s: %s%s%n", seconds, chosen.key().base(), what, outputFile == null ? "" : "; kept in " + outputFile);
                StepSummary.append(new Markdown().heading("verify") + Markdown.code(m.dumpKey()) + ": OK, " + Markdown.escape(what) + "\n");
                if (backup.common.json()) {
                    JsonDocument.of(Exit.OK).put("outcome", "ok").put("backup", chosen.summary()).put("tocEntries", listing.entries())
                            .put("rows", read.rows() == null ? null : read.total()).put("tablesWithData", read.rows() == null ? null : read.rows().size())
                            .put("tablesCompared", compared).put("decrypted", identities != null).put("pgRestoreVersion", pgRestore.version())
                            .put("output", outputFile == null ? null : outputFile.toString()).put("seconds", seconds)
                            .print(spec.commandLine().getOut());
                }
                return Exit.OK;
            }
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

        @Mixin RestoreBackupOptions backup = new RestoreBackupOptions();

        @Override
        public Integer call() throws Exception {
            backup.common.begin(spec);
            PrintWriter err = spec.commandLine().getErr();
            String url = scratchUrl != null && !scratchUrl.isBlank() ? scratchUrl : targetUrl;
            if (url == null || url.isBlank()) {
                throw Failure.usage("no server for the drill: give --scratch-url URL (or DRILL_DATABASE_URL), or --target-url (RESTORE_DATABASE_URL)");
            }
            ConnInfo server = ConnInfo.parse(url);
            if (jobs < 1) throw Failure.usage("--jobs must be 1 or more, not " + jobs);
            if (!Double.isFinite(tolerancePercent)) throw Failure.usage("--row-tolerance-percent must be a number (0 or more), not " + tolerancePercent);
            if (tolerancePercent < 0 || toleranceRows < 0) throw Failure.usage("row tolerances must not be negative");
            TempDump.checkDir(tempDir);
            Instant started = Instant.now();

            try (S3Client s3 = backup.common.s3()) {
                BackupChoice chosen = backup.choose(s3, err);
                Manifest m = chosen.manifest();
                Age.Identities identities = backup.identity.forBackup(m);
                err.println("drill: backup " + chosen.describe());
                PgTools.Tool psql = PgTools.anyPsql();
                PgTools.ServerVersion version = PgTools.serverVersion(psql, server);
                PgTools.Tool pgRestore = PgRestoreRun.choose(pgRestorePath, version.major(), m);
                VerifyRecord.RowTolerance tolerance = new VerifyRecord.RowTolerance(tolerancePercent, toleranceRows);
                RestoreDrill run = new RestoreDrill(chosen, psql, pgRestore, server, version, tolerance, err);

                try (TempDump temp = TempDump.create(tempDir, m.directory() ? PipelinedRestore.diskBound(m) : m.sizeBytes(), err)) {
                    run.execute(s3, backup.common.bucket(), temp.path(), jobs, identities);
                }

                DrillVerdict verdict = run.verdict();
                VerifyRecord record = run.record(started, verdict);
                boolean recorded = false;
                if (verdict.recorded() && !noRecord) {
                    RestoreDrill.checkStillThere(s3, backup.common.bucket(), chosen);
                    s3.putObject(b -> b.bucket(backup.common.bucket()).key(chosen.key().verifyKey()).contentType("application/json"),
                            RequestBody.fromString(record.toJson(), StandardCharsets.UTF_8));
                    recorded = true;
                }
                run.report(verdict, record, chosen, recorded);
                if (backup.common.json()) {
                    JsonDocument.of(verdict.exitCode()).put("outcome", verdict.outcome()).put("backup", chosen.summary())
                            .put("scratchDatabase", run.scratchName).put("recordKey", recorded ? chosen.key().verifyKey() : null)
                            .put("reasons", verdict.reasons()).put("record", verdict.recorded() ? record : null)
                            .print(spec.commandLine().getOut());
                }
                return verdict.exitCode();
            }
        }
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
            ParentOptions.take(spec);
            Age.KeyPair pair = Age.generate();
            PrivateFile.create(file); // refuses an existing file: overwriting a key would lose the backups made with it
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
                JsonDocument.of(Exit.OK).put("recipient", pair.recipient()).put("identityFile", file.toString()).print(out);
            } else {
                out.println(pair.recipient());
            }
            out.flush();
            return Exit.OK;
        }
    }
}
