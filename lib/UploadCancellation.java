import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * SIGTERM (GitHub cancelling a job) and Ctrl-C end the JVM through its shutdown hooks: ours stops every
 * running pg_dump and aborts its multipart upload, so an interrupted run leaves nothing behind. It uses a
 * client of its own, because the main thread may be closing its own at the same moment.
 */
final class UploadCancellation {
    /** One dump in progress, as the shutdown hook sees it. */
    static final class Running {
        final MultipartStreamUpload upload;
        final AwsOptions aws;
        volatile PgTools.Streaming dump;
        volatile boolean cancelled;

        Running(MultipartStreamUpload upload, AwsOptions aws) {
            this.upload = upload;
            this.aws = aws;
        }
    }

    private static final Set<Running> RUNNING = ConcurrentHashMap.newKeySet();
    private static boolean hooked;

    static synchronized void register(Running r) {
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(new Thread(UploadCancellation::cancelAll, "backup-cancel"));
            hooked = true;
        }
        RUNNING.add(r);
    }

    static void unregister(Running r) { RUNNING.remove(r); }

    private static void cancelAll() {
        if (RUNNING.isEmpty()) return;
        List<Thread> threads = new ArrayList<>();
        for (Running r : List.copyOf(RUNNING)) {
            r.cancelled = true;
            PgTools.Streaming d = r.dump;
            if (d != null) d.process().destroy();
            threads.add(Threads.start("backup-abort", () -> {
                try (S3Client s3 = AwsClients.s3(r.aws)) {
                    r.upload.abortNow(s3);
                    System.err.println("backup: interrupted: aborted the upload of s3://" + r.upload.bucket + "/" + r.upload.key);
                } catch (RuntimeException e) {
                    System.err.println("backup: interrupted: could not abort the upload of s3://" + r.upload.bucket + "/" + r.upload.key
                            + ": " + Errors.classify(e).getMessage());
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join(20_000);
            } catch (InterruptedException ignored) {
                return;
            }
        }
    }

    private UploadCancellation() {}
}
