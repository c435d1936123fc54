import java.util.List;

/**
 * One name's prune plan. {@code removeIncomplete}/{@code waitIncomplete}: leftovers without data to lose or without a
 * manifest (incomplete dumps, phantoms) older / younger than --grace; {@code notComplete}: backups that are not
 * complete but hold a dump (or are not ours to judge), left alone and reported. {@code held} is null, or why
 * nothing of this name is deleted (--max-age); then {@code delete} and {@code removeIncomplete} are empty.
 */
record PrunePlan(String name, List<Decision> keep, List<Decision> delete, List<BackupListing.Entry> removeIncomplete,
                 List<BackupListing.Entry> waitIncomplete, List<BackupListing.Entry> notComplete, BackupListing.Entry newest, String held) {

    /** A complete backup and why it is kept (empty reasons: it is deleted). */
    record Decision(BackupListing.Entry entry, List<String> reasons) {}
}
