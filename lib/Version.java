import picocli.CommandLine.IVersionProvider;

/** One version for the whole tool: printed by --version and recorded in every manifest. */
final class Version implements IVersionProvider {
    static final String TOOL = "pgdump-s3";
    static final String VERSION = "0.1.0";

    @Override
    public String[] getVersion() {
        return new String[] {TOOL + " " + VERSION, "Java " + System.getProperty("java.version")};
    }
}
