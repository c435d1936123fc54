/**
 * GitHub Actions workflow commands that annotate a run (::error::, ::warning::): shown on the run's page and in
 * its checks, where a red run's reason is seen without opening the log. Escaped as the Actions toolkit does, so a
 * message cannot end the command early or start another one.
 */
final class GitHubAnnotations {
    /** Whether this process runs as a step of GitHub Actions. */
    static boolean active() { return "true".equals(System.getenv("GITHUB_ACTIONS")); }

    static String error(String title, String message) { return command("error", title, message); }

    static String warning(String title, String message) { return command("warning", title, message); }

    private static String command(String kind, String title, String message) {
        return "::" + kind + (title == null ? "" : " title=" + escapeProperty(title)) + "::" + escapeData(message);
    }

    /** The message: '%', CR and LF percent-encoded. */
    static String escapeData(String s) {
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A");
    }

    /** A property value: as data, and ':' and ',' too (they separate properties). */
    static String escapeProperty(String s) {
        return escapeData(s).replace(":", "%3A").replace(",", "%2C");
    }

    private GitHubAnnotations() {}
}
