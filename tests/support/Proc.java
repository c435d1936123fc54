import java.util.List;
import java.util.Map;

/** Running helper commands in tests (initdb, moto_server, ...); a failure is an exception with the output. */
final class Proc {
    static String run(List<String> cmd, Map<String, String> env, long timeoutSeconds) {
        PgTools.Result r = PgTools.run(cmd, env, null, timeoutSeconds);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + r.exitCode() + ":\n" + r.stdout() + r.stderr());
        }
        return r.stdout();
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private Proc() {}
}
