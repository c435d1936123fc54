import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A fleet found through the Neon API: every project of the key (or of an organization, or those whose id or name
 * matches a list of names and globs), its default branch (or the branches whose name or id matches), each database
 * of those branches and the role that owns it. No connection URI and no password is fetched here: a plan needs
 * names only, and the job that dumps a database fetches its URI ({@link #connect}) just before.
 *
 * <p>A project that cannot be read (Neon lists it as unavailable and it cannot be fetched either, its branches or
 * databases fail, no branch matches) is a {@link Problem} of the discovery, reported with its id and the reason:
 * never silently left out of the backups.
 *
 * <p>Backup names: {@code PROJECT_ID.BRANCH.DATABASE} ({@link #backupName}), stable across nights and unique across
 * projects, within {@link BackupKey#MAX_NAME}.
 */
final class NeonFleet {
    /**
     * What to back up. {@code projects}: project ids, names or globs ({@code *}, {@code ?}) matched against id and
     * name, empty for every project; {@code branches}: branch names, ids or globs, empty for each project's default
     * branch; {@code databases}: database names or globs, empty for all.
     */
    record Selection(String orgId, List<String> projects, List<String> branches, List<String> databases) {
        Selection {
            projects = List.copyOf(projects);
            branches = List.copyOf(branches);
            databases = List.copyOf(databases);
            for (List<String> l : List.of(projects, branches, databases)) {
                for (String s : l) if (s == null || s.isBlank()) throw Failure.usage("an empty Neon project, branch or database selector");
            }
            if (orgId != null && !orgId.matches("[a-z0-9-]{1,60}")) throw Failure.usage("--neon-org is a Neon organization id such as org-morning-bread-81040908");
        }

        static Selection all() { return new Selection(null, List.of(), List.of(), List.of()); }
    }

    /**
     * One database of the fleet: its backup name and its identity in Neon (no secret). The identity is what a
     * manifest records (proposed: Manifest.Source gains {@code neon} with these fields) and what a plan carries.
     */
    record Member(String name, String orgId, String projectId, String projectName, String branchId, String branchName, boolean defaultBranch,
                  String database, String role) {
        /** What a leg needs to fetch this database's URI, and nothing secret: ids and names only (the plan file carries it). */
        Map<String, String> identity() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("project", projectId);
            m.put("branch", branchId);
            m.put("branchName", branchName);
            m.put("database", database);
            m.put("role", role);
            return m;
        }

        /** The member a plan file describes ({@link #identity}); refused when a field is missing or the name is not the one these ids give. */
        static Member fromIdentity(String name, Map<String, String> id) {
            for (String f : List.of("project", "branch", "branchName", "database", "role")) {
                String v = id.get(f);
                if (v == null || v.isEmpty()) throw Failure.usage("the fleet plan's entry for " + name + " has no Neon " + f + ": make the plan again");
            }
            String expected = backupName(id.get("project"), id.get("branchName"), id.get("database"));
            if (!expected.equals(name)) {
                throw Failure.usage("the fleet plan names " + name + " a database whose ids give the name " + expected + ": make the plan again");
            }
            return new Member(name, null, id.get("project"), null, id.get("branch"), id.get("branchName"), false, id.get("database"), id.get("role"));
        }
    }

    /** A project (or one of its branches) that could not be read, and why: one line, with the exit code it amounts to. */
    record Problem(String projectId, String projectName, String reason, int exitCode) {}

    /** What discovery found: the databases (sorted by name) and the projects it could not read. */
    record Discovery(List<Member> databases, List<Problem> problems) {
        boolean complete() { return problems.isEmpty(); }
    }

    /**
     * Discovers the fleet, {@code parallel} projects at a time. Fails as a whole only when nothing can be listed
     * (the key is refused, the organization is wrong, the API is unreachable); every per-project failure becomes a
     * {@link Problem}.
     */
    static Discovery discover(NeonApi api, Selection sel, int parallel, Consumer<String> progress) {
        NeonApi.Projects listing = api.listProjects(sel.orgId());
        List<Problem> problems = new ArrayList<>();
        List<NeonApi.Project> candidates = new ArrayList<>(listing.projects());
        for (String id : listing.unavailableIds()) {
            // Neon knew the project but could not describe it in time: ask for it alone before calling it unreadable.
            try {
                candidates.add(api.project(id));
            } catch (NeonApi.ApiFailure f) {
                if (f.status == 401) throw f;
                problems.add(new Problem(id, null, "listed by Neon as unavailable, and reading it failed: " + f.getMessage(), f.exitCode));
            }
        }
        List<NeonApi.Project> chosen = new ArrayList<>();
        Map<String, Boolean> selectorUsed = new LinkedHashMap<>();
        for (String s : sel.projects()) selectorUsed.put(s, false);
        for (NeonApi.Project p : candidates) {
            boolean in = sel.projects().isEmpty();
            for (String s : sel.projects()) {
                if (matches(s, p.id()) || matches(s, p.name())) {
                    in = true;
                    selectorUsed.put(s, true);
                }
            }
            if (in) chosen.add(p);
        }
        for (var e : selectorUsed.entrySet()) {
            if (!e.getValue()) {
                problems.add(new Problem(null, null, "no Neon project " + (isGlob(e.getKey()) ? "matches " : "has the id or name ") + NeonApi.showable(e.getKey())
                        + (problems.isEmpty() ? "" : " (or it is one of those that could not be read)"), Exit.USAGE));
            }
        }
        chosen.sort(Comparator.comparing(NeonApi.Project::id));
        progress.accept("Neon: " + candidates.size() + " project(s) listed, " + chosen.size() + " selected");

        List<Member> members = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, parallel), Threads.daemons("neon-discovery"));
        try {
            List<Future<List<Member>>> futures = new ArrayList<>();
            for (NeonApi.Project p : chosen) futures.add(pool.submit(() -> project(api, p, sel)));
            for (int i = 0; i < futures.size(); i++) {
                NeonApi.Project p = chosen.get(i);
                try {
                    members.addAll(futures.get(i).get());
                } catch (ExecutionException e) {
                    Failure f = Errors.classify(e.getCause());
                    if (f instanceof NeonApi.ApiFailure a && a.status == 401) throw a; // the key itself: nothing can be read
                    problems.add(new Problem(p.id(), p.name(), f.getMessage(), f.exitCode));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(Exit.FAILED, "interrupted while discovering the Neon fleet");
        } finally {
            pool.shutdownNow();
        }
        members.sort(Comparator.comparing(Member::name));
        checkUnique(members);
        return new Discovery(List.copyOf(members), List.copyOf(problems));
    }

    /** One project's members; a failure of any call is the project's failure (thrown). */
    private static List<Member> project(NeonApi api, NeonApi.Project p, Selection sel) {
        List<NeonApi.Branch> branches = api.listBranches(p.id());
        List<NeonApi.Branch> chosen = new ArrayList<>();
        for (NeonApi.Branch b : branches) {
            boolean in = sel.branches().isEmpty() ? b.isDefault() : sel.branches().stream().anyMatch(s -> matches(s, b.name()) || matches(s, b.id()));
            if (in) chosen.add(b);
        }
        if (chosen.isEmpty()) {
            throw new Failure(Exit.USAGE, sel.branches().isEmpty() ? "Neon marks none of its " + branches.size() + " branches as the default branch"
                    : "none of its " + branches.size() + " branches matches --neon-branch " + String.join(", ", sel.branches().stream().map(NeonApi::showable).toList()));
        }
        List<Member> out = new ArrayList<>();
        for (NeonApi.Branch b : chosen) {
            for (NeonApi.Database d : api.listDatabases(p.id(), b.id())) {
                if (!sel.databases().isEmpty() && sel.databases().stream().noneMatch(s -> matches(s, d.name()))) continue;
                out.add(new Member(backupName(p.id(), b.name(), d.name()), p.orgId(), p.id(), p.name(), b.id(), b.name(), b.isDefault(), d.name(), d.ownerName()));
            }
        }
        return out;
    }

    /**
     * The direct connection to a member, password included (GET connection_uri, pooled=false), as its owner role.
     * Called by the job that dumps it, as late as possible: a URI is a secret and is never written anywhere.
     */
    static ConnInfo connect(NeonApi api, Member m) {
        return api.connectionUri(m.projectId(), m.branchId(), m.database(), m.role());
    }

    /**
     * {@code PROJECT_ID.BRANCH.DATABASE}, e.g. {@code shiny-wind-02883416.main.neondb}: a backup name (lowercase
     * {@code [a-z0-9._-]}, at most {@link BackupKey#MAX_NAME}) that stays the same night after night and differs between
     * any two databases. Neon project ids ({@code [a-z0-9-]}, at most 60) never hold '.', and each part is reduced
     * to {@code [a-z0-9_-]}, so the two dots always separate the three parts. A part that had to change (capitals,
     * '/', '.', spaces, non-ASCII) gets 6 hex digits of its original's SHA-256: "Sales DB" and "sales-db" stay apart.
     * A name that would be too long has its branch and database parts shortened, each ending in its hash.
     */
    static String backupName(String projectId, String branch, String database) {
        String p = part(projectId);
        if (p.length() > MAX_PROJECT_PART) p = shorten(p, projectId, MAX_PROJECT_PART); // not a Neon id (those are at most 60)
        String b = part(branch), d = part(database);
        int budget = BackupKey.MAX_NAME - p.length() - 2; // p is at most 67: the budget stays above 50
        if (b.length() + d.length() > budget) {
            int bMax = Math.max(budget - d.length(), budget / 2);
            if (b.length() > bMax) b = shorten(b, branch, bMax);
            if (b.length() + d.length() > budget) d = shorten(d, database, budget - b.length());
        }
        return p + "." + b + "." + d;
    }

    private static final int MAX_PROJECT_PART = 67;

    /** A part of a backup name: [a-z0-9_-] only, no separator at either end; a part that had to change carries its hash. */
    static String part(String raw) {
        String clean = raw.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]+", "-").replaceAll("-{2,}", "-").replaceAll("^[-_]+|[-_]+$", "");
        if (clean.equals(raw) && !clean.isEmpty()) return clean;
        return clean.isEmpty() ? hash(raw) : clean + "-" + hash(raw);
    }

    private static String shorten(String part, String raw, int max) {
        String h = hash(raw);
        if (max <= h.length()) return h.substring(0, Math.max(1, max));
        String head = part.substring(0, max - h.length() - 1).replaceAll("[-_]+$", "");
        return head.isEmpty() ? h : head + "-" + h;
    }

    private static String hash(String raw) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 6);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Two databases under one name would share one history: refused, naming both (ids and names only). */
    private static void checkUnique(List<Member> members) {
        Map<String, Member> seen = new HashMap<>();
        for (Member m : members) {
            Member prior = seen.put(m.name(), m);
            if (prior != null) {
                throw Failure.usage("two Neon databases would be backed up under the same name " + m.name() + ": " + describe(prior) + " and " + describe(m)
                        + " (rename one of them, or narrow the selection)");
            }
        }
    }

    static String describe(Member m) {
        return "project " + m.projectId() + " branch " + NeonApi.showable(m.branchName()) + " database " + NeonApi.showable(m.database());
    }

    /** A selector matches exactly, or as a glob where '*' is any run of characters and '?' one character. */
    static boolean matches(String selector, String value) {
        if (value == null) return false;
        if (!isGlob(selector)) return selector.equals(value);
        StringBuilder re = new StringBuilder();
        for (char c : selector.toCharArray()) {
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL).matcher(value).matches();
    }

    private static boolean isGlob(String s) { return s.indexOf('*') >= 0 || s.indexOf('?') >= 0; }

    private NeonFleet() {}
}
