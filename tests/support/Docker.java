import java.nio.file.Files;
import java.nio.file.Path;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Testcontainers, used only when a Docker engine answers (design.md section 5). The cheap socket/DOCKER_HOST
 * check first keeps machines without Docker from waiting on Testcontainers' discovery.
 */
final class Docker {
    /** A LocalStack tag that runs without an auth token. */
    static final String LOCALSTACK_IMAGE = "localstack/localstack:4.4.0";
    static final String POSTGRES_IMAGE = "postgres:17-alpine";
    private static Boolean available;

    static synchronized boolean available() {
        if (available == null) {
            boolean hint = System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"));
            boolean up = false;
            if (hint) {
                try {
                    up = DockerClientFactory.instance().isDockerAvailable();
                } catch (Throwable e) {
                    up = false;
                }
            }
            available = up;
        }
        return available;
    }

    static PgServer startPostgres(String password) {
        @SuppressWarnings("resource")
        PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(DockerImageName.parse(POSTGRES_IMAGE))
                .withUsername("postgres").withPassword(password).withDatabaseName("postgres");
        pg.start();
        return PgServer.external(pg.getHost(), pg.getMappedPort(5432), "postgres", password, "testcontainers");
    }

    static String startLocalStack() {
        @SuppressWarnings("resource")
        LocalStackContainer ls = new LocalStackContainer(DockerImageName.parse(LOCALSTACK_IMAGE))
                .withServices(LocalStackContainer.Service.S3, LocalStackContainer.Service.IAM, LocalStackContainer.Service.STS);
        ls.start();
        return ls.getEndpoint().toString();
    }

    private Docker() {}
}
