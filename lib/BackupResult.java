/** What happened to one database: the row of backup's summary and of its --json document. */
record BackupResult(String name, String database, String host, String status, String dumpKey, String manifestKey, Long sizeBytes,
                    String sha256, double durationSeconds, Long bytesPerSecond, Double secondsWaitingForS3, String compression,
                    Integer tocEntries, String error, int exitCode) {
    boolean ok() { return status.equals("ok"); }
}
