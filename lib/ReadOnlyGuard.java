import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** Dry run, enforced: every AWS call that is not a read (Get*, List*, Head*) is refused before it is sent. */
final class ReadOnlyGuard implements ExecutionInterceptor {
    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        String op = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        if (op == null || !(op.startsWith("Get") || op.startsWith("List") || op.startsWith("Head"))) {
            throw new IllegalStateException("dry run: refusing the mutating AWS call " + op + " (a bug in setup-aws: please report it)");
        }
    }
}
