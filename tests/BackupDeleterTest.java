import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.S3Error;

/** {@link BackupDeleter}: what S3 answers about each key of a batch delete. */
class BackupDeleterTest {
    @Test
    void perKeyDeleteErrorsAreLockedOrFailed() {
        // DeleteObjects answers as S3 sends them (quiet mode: only errors are listed).
        DeleteObjectsResponse response = DeleteObjectsResponse.builder().errors(
                S3Error.builder().key("b").code("AccessDenied").message("Access Denied because object protected by object lock.").build(),
                S3Error.builder().key("c").code("AccessDenied").message("Access Denied").build(),
                S3Error.builder().key("d").code("InternalError").message("We encountered an internal error. Please try again.").build(),
                S3Error.builder().key("e").code("ObjectLocked").message("Object is WORM protected and cannot be overwritten").build()).build();
        List<BackupDeleter.KeyResult> results = BackupDeleter.interpret(List.of("a", "b", "c", "d", "e"), response);
        assertEquals(List.of(BackupDeleter.Outcome.DELETED, BackupDeleter.Outcome.LOCKED, BackupDeleter.Outcome.FAILED,
                BackupDeleter.Outcome.FAILED, BackupDeleter.Outcome.LOCKED), results.stream().map(BackupDeleter.KeyResult::outcome).toList());
        assertEquals("InternalError", results.get(3).code());
        assertFalse(BackupDeleter.isLocked("AccessDenied", "Access Denied"));
        assertTrue(BackupDeleter.isLocked("InvalidRequest", "Object is under retention (legal hold)"));
    }
}
