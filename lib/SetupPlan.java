import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * setup-aws's plan: one {@link SetupItem} per resource or setting, in the order they are applied (the bucket before
 * its settings, the OIDC provider before the roles that trust it).
 */
final class SetupPlan {
    final List<SetupItem> items = new ArrayList<>();

    /** Applies the plan in order; on the first failure, stops and returns it (what was done stays done). */
    Failure apply() {
        for (SetupItem item : items) {
            if (item.action == SetupItem.Action.UNCHANGED) {
                item.status = "done";
                continue;
            }
            try {
                item.apply.run();
                item.status = "done";
            } catch (RuntimeException e) {
                item.status = "failed";
                Failure cause = explain(e, item);
                for (SetupItem rest : items) if (rest.status == null) rest.status = "skipped";
                long done = items.stream().filter(i -> "done".equals(i.status) && i.action != SetupItem.Action.UNCHANGED).count();
                return new Failure(cause.exitCode, "could not " + item.action.verb + " " + item.label() + ": " + cause.getMessage()
                        + " (" + done + " change(s) before it are in place; fix this and run setup-aws again)", e);
            }
        }
        return null;
    }

    /** One line for an AWS error while changing a resource, with the exit code of docs/architecture.md#exit-codes. */
    static Failure explain(Throwable e, SetupItem item) {
        if (e instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
            String code = aws.awsErrorDetails().errorCode();
            String msg = aws.awsErrorDetails().errorMessage();
            if ("BucketAlreadyExists".equals(code)) {
                return new Failure(Exit.FAILED, "the bucket name is already taken by another AWS account (S3 bucket names are global): choose another --bucket", e);
            }
            if ("AccessDenied".equals(code) || "AccessDeniedException".equals(code) || aws.statusCode() == 403) {
                return new Failure(Exit.NO_PERMISSION, "permission denied (" + code + (msg == null ? "" : ": " + msg)
                        + "): setup-aws needs rights to administer S3 buckets and IAM roles (see the README, setup-aws: permissions needed)", e);
            }
        }
        return Errors.classify(e);
    }

    /** How many items have this action (planned). */
    long planned(SetupItem.Action action) { return items.stream().filter(i -> i.action == action).count(); }

    /** How many items with this action were carried out. */
    long done(SetupItem.Action action) { return items.stream().filter(i -> i.action == action && "done".equals(i.status)).count(); }
}
