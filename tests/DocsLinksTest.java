import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README and docs/ hold together: every relative link points at a file of the repository, every #anchor at a
 * heading of its page (as GitHub makes anchors), and the README stays a landing page (at most 250 lines; the
 * reference lives in docs/). Links to other sites are not fetched.
 */
class DocsLinksTest {
    static final int README_MAX_LINES = 250;

    @Test
    void everyRelativeLinkAndAnchorResolves() throws IOException {
        Path root = Scripts.repoRoot();
        List<String> broken = Links.check(root, pages(root));
        assertTrue(broken.isEmpty(), broken.size() + " broken link(s):\n" + String.join("\n", broken));
    }

    /** Code comments, messages and the workflow template cite docs pages ("docs/architecture.md#manifest"): those resolve too. */
    @Test
    void everyDocsLinkInTheCodeResolves() throws IOException {
        Path root = Scripts.repoRoot();
        List<String> broken = Links.checkCode(root, codeFiles(root));
        assertTrue(broken.isEmpty(), broken.size() + " broken docs link(s) in the code:\n" + String.join("\n", broken));
    }

    /** The sections of docs/architecture.md that code comments cite in place of the old design.md's numbers. */
    @Test
    void theArchitecturePageHasTheSectionsCodeCites() throws IOException {
        Set<String> anchors = Links.anchors(Files.readString(Scripts.repoRoot().resolve("docs/architecture.md"), StandardCharsets.UTF_8));
        for (String cited : List.of("s3-layout", "manifest", "cli-conventions", "exit-codes", "safety-rules", "tests", "performance")) {
            assertTrue(anchors.contains(cited), "docs/architecture.md has no section #" + cited + " (code comments cite it); it has " + anchors);
        }
    }

    @Test
    void theReadmeIsALandingPage() throws IOException {
        List<String> lines = Files.readAllLines(Scripts.repoRoot().resolve("README.md"), StandardCharsets.UTF_8);
        assertTrue(lines.size() <= README_MAX_LINES, "README.md has " + lines.size() + " lines, at most " + README_MAX_LINES
                + " are allowed: move reference material into docs/ and link to it");
    }

    /** The checker itself finds what it must: a missing file, a missing anchor, a missing anchor on another page. */
    @Test
    void brokenLinksAreReported() throws IOException {
        Path root = Files.createTempDirectory("docs-links");
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("README.md"), "# Title\n\n## Quick start\n\nSee [a](docs/a.md#exit-codes), [gone](docs/gone.md),"
                + " [here](#quick-start), [nowhere](#quick-stop), [web](https://example.com/x#y), a [wrapped\nlink](docs/a.md#nope).\n\n"
                + "```\n[not a link](nothing.md)\n```\n\n    [indented code](nothing.md)\n");
        Files.writeString(root.resolve("docs/a.md"), "# A\n\n## Exit codes\n\nBack to [the start](../README.md#title), [wrong](../README.md#titel).\n");
        List<String> broken = Links.check(root, List.of(root.resolve("README.md"), root.resolve("docs/a.md")));
        assertEquals(List.of("README.md:5: docs/gone.md: no such file",
                "README.md:5: #quick-stop: no heading with this anchor in README.md",
                "README.md:5: docs/a.md#nope: no heading with this anchor in docs/a.md",
                "docs/a.md:5: ../README.md#titel: no heading with this anchor in README.md"), broken);
    }

    /** The code checker finds a cited page or anchor that is not there, and nothing else. */
    @Test
    void brokenDocsLinksInTheCodeAreReported() throws IOException {
        Path root = Files.createTempDirectory("docs-links-code");
        Files.createDirectories(root.resolve("docs"));
        Files.createDirectories(root.resolve("lib"));
        Files.writeString(root.resolve("docs/architecture.md"), "# Architecture\n\n## S3 layout\n");
        Files.writeString(root.resolve("lib/Thing.java"), "/** Keys as in docs/architecture.md#s3-layout; see docs/architecture.md.\n"
                + " * Wrong: docs/architecture.md#s3-layut, docs/gone.md, and https://example.com/docs/x.md#y is not ours. */\nclass Thing {}\n");
        assertEquals(List.of("lib/Thing.java:2: docs/architecture.md#s3-layut: no heading with this anchor in docs/architecture.md",
                "lib/Thing.java:2: docs/gone.md: no such file"), Links.checkCode(root, List.of(root.resolve("lib/Thing.java"))));
    }

    /** GitHub's anchors: the heading's text, lowercased, punctuation dropped, each space a '-', repeats numbered. */
    @Test
    void anchorsAreMadeAsGitHubMakesThem() {
        assertEquals(List.of("exit-codes-the-same-in-every-script", "the-3-am-restore-runbook", "prune-backup-entries",
                        "--json-and---verbose", "pg_dump-and-pg_restore", "one-role-or-three", "setup-aws", "setup-aws-1", "über-größe"),
                List.copyOf(Links.anchors(String.join("\n", "## Exit codes (the same in every script)", "# The 3 a.m. restore runbook",
                        "### prune: backup entries", "## `--json` and `--verbose`", "## pg_dump and pg_restore",
                        "**not a heading**", "## One role, or three", "## setup-aws", "## [setup-aws](setup-aws.md)", "## Über Größe"))));
    }

    static List<Path> pages(Path root) throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** The files that may cite docs pages: the scripts, lib/, the tests (but this one), the workflow template, bench/, .ci/. */
    static List<Path> codeFiles(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of(".", "lib", "tests", "tests/support", "workflows", "bench", ".ci")) {
            Path d = root.resolve(dir).normalize();
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> list = Files.list(d)) {
                list.filter(Files::isRegularFile)
                        .filter(p -> p.getFileName().toString().matches(".*\\.(java|yml|yaml|sh|py)|run"))
                        .filter(p -> !p.getFileName().toString().equals("DocsLinksTest.java"))
                        .sorted().forEach(files::add);
            }
        }
        return files;
    }

    /** Links and anchors of Markdown pages, as GitHub renders them. */
    static final class Links {
        private static final Pattern FENCE = Pattern.compile("^\\s{0,3}(```|~~~)");
        private static final Pattern HEADING = Pattern.compile("^\\s{0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
        private static final Pattern CODE_SPAN = Pattern.compile("(`+)(.+?)\\1");
        /** [text](target) and ![alt](target); the target up to a space (a title may follow) or the closing parenthesis. */
        private static final Pattern INLINE_LINK = Pattern.compile("!?\\[(?:[^\\]\\[]|\\[[^\\]]*\\])*\\]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
        private static final Pattern REFERENCE_DEFINITION = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s.*)?$");
        private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:id|name)=\"([^\"]+)\"");
        private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

        /** Every broken link of {@code pages}, as "page:line: target: why", in page and line order. */
        static List<String> check(Path root, List<Path> pages) {
            Map<Path, Set<String>> anchorsByPage = new HashMap<>();
            List<String> broken = new ArrayList<>();
            for (Path page : pages) {
                List<String> prose = prose(read(page));
                for (int i = 0; i < prose.size(); i++) {
                    if (prose.get(i) == null) continue;
                    // A link may wrap onto the next line of its paragraph: read on into it.
                    String next = i + 1 < prose.size() && prose.get(i + 1) != null ? prose.get(i + 1) : "";
                    for (String target : targets(prose.get(i), next)) {
                        String problem = problem(root, page, target, anchorsByPage);
                        if (problem != null) broken.add(root.relativize(page) + ":" + (i + 1) + ": " + target + ": " + problem);
                    }
                }
            }
            return broken;
        }

        /** A docs page cited in code, "docs/PAGE.md" or "docs/PAGE.md#anchor", not as part of a URL or a longer path. */
        private static final Pattern CODE_CITATION = Pattern.compile("(?<![\\w./:-])docs/[\\w.-]+\\.md(?:#[\\w-]+)?");

        /** Every broken docs citation in {@code files}, as "file:line: citation: why"; citations resolve from the repository's root. */
        static List<String> checkCode(Path root, List<Path> files) {
            Map<Path, Set<String>> anchorsByPage = new HashMap<>();
            List<String> broken = new ArrayList<>();
            Path fromRoot = root.resolve("README.md");
            for (Path file : files) {
                List<String> lines = read(file);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = CODE_CITATION.matcher(lines.get(i));
                    while (m.find()) {
                        String problem = problem(root, fromRoot, m.group(), anchorsByPage);
                        if (problem != null) broken.add(root.relativize(file) + ":" + (i + 1) + ": " + m.group() + ": " + problem);
                    }
                }
            }
            return broken;
        }

        /** Why a link target does not resolve, or null when it does (or points outside the repository's files). */
        private static String problem(Path root, Path page, String target, Map<Path, Set<String>> anchorsByPage) {
            if (target.isEmpty() || SCHEME.matcher(target).find() || target.startsWith("//")) return null;
            int hash = target.indexOf('#');
            String path = hash < 0 ? target : target.substring(0, hash);
            String anchor = hash < 0 ? null : target.substring(hash + 1);
            Path file = path.isEmpty() ? page : (path.startsWith("/") ? root.resolve(path.substring(1)) : page.getParent().resolve(path)).normalize();
            if (!file.startsWith(root)) return "outside the repository";
            if (!Files.exists(file)) return "no such file";
            if (anchor == null || anchor.isEmpty()) return null;
            if (!file.getFileName().toString().endsWith(".md") || Files.isDirectory(file)) return "an anchor into a file that is not Markdown";
            Set<String> anchors = anchorsByPage.computeIfAbsent(file, f -> anchors(String.join("\n", read(f))));
            return anchors.contains(anchor) ? null : "no heading with this anchor in " + root.relativize(file);
        }

        /** The anchors of a page: one per heading (outside code), and explicit {@code <a id="...">}s. */
        static Set<String> anchors(String markdown) {
            Set<String> anchors = new LinkedHashSet<>();
            Map<String, Integer> seen = new HashMap<>();
            for (String line : prose(markdown.lines().toList())) {
                if (line == null) continue;
                Matcher h = HEADING.matcher(line);
                if (h.matches()) {
                    String slug = slug(h.group(2));
                    int n = seen.merge(slug, 1, Integer::sum) - 1;
                    anchors.add(n == 0 ? slug : slug + "-" + n);
                }
                Matcher a = HTML_ANCHOR.matcher(line);
                while (a.find()) anchors.add(a.group(1));
            }
            return anchors;
        }

        /** GitHub's rule: the rendered text, lowercased; everything but letters, digits, '_', '-' and spaces dropped; spaces to '-'. */
        static String slug(String heading) {
            String text = heading.replaceAll("!?\\[((?:[^\\]\\[]|\\[[^\\]]*\\])*)\\]\\([^)]*\\)", "$1") // a link: its text
                    .replaceAll("<[^>]+>", "")                                                          // inline HTML tags
                    .replace("`", "").replace("*", "");
            return text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{M}\\p{N}_\\- ]", "").replace(' ', '-');
        }

        /**
         * Link targets that start on {@code line} (a link may end on {@code next}, the paragraph's next line): inline links
         * and images outside code spans, and reference definitions.
         */
        private static List<String> targets(String line, String next) {
            List<String> targets = new ArrayList<>();
            Matcher def = REFERENCE_DEFINITION.matcher(line);
            if (def.matches()) {
                targets.add(def.group(1));
                return targets;
            }
            String both = line + "\n" + next;
            // A code span is not a link, but a link's text may be code: blank the spans out, keep the brackets around them.
            String text = blankCode(line) + "\n" + blankCode(next);
            Matcher m = INLINE_LINK.matcher(text);
            while (m.find() && m.start() < line.length()) targets.add(both.substring(m.start(1), m.end(1)));
            return targets;
        }

        private static String blankCode(String line) {
            return CODE_SPAN.matcher(line).replaceAll(m -> "x".repeat(m.group().length()));
        }

        /** The lines of a page with those of code blocks (fenced or indented) and fences as null: only prose has links and headings. */
        private static List<String> prose(List<String> lines) {
            List<String> prose = new ArrayList<>(lines.size());
            boolean inFence = false;
            for (int i = 0; i < lines.size(); i++) {
                boolean fence = FENCE.matcher(lines.get(i)).find();
                if (fence) inFence = !inFence;
                prose.add(fence || inFence || isIndentedCode(lines, i) ? null : lines.get(i));
            }
            return prose;
        }

        /** A line of an indented code block: four spaces in, after a blank line or another such line (not a list's continuation). */
        private static boolean isIndentedCode(List<String> lines, int i) {
            if (!lines.get(i).startsWith("    ") && !lines.get(i).startsWith("\t")) return false;
            for (int j = i - 1; j >= 0; j--) {
                String prev = lines.get(j);
                if (prev.isBlank()) {
                    // After a blank line: code, unless the paragraph above belongs to a list item (its continuation is indented too).
                    for (int k = j - 1; k >= 0 && !lines.get(k).isBlank(); k--) {
                        if (lines.get(k).matches("^\\s*([-*+]|\\d+[.)])\\s.*") && !lines.get(k).startsWith("    ")) return false;
                    }
                    return true;
                }
                if (!prev.startsWith("    ") && !prev.startsWith("\t")) return false;
            }
            return true;
        }

        private static List<String> read(Path page) {
            try {
                return Files.readAllLines(page, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private Links() {}
    }
}
