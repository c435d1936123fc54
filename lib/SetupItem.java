import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One step of setup-aws's plan: a resource or one of its settings, with its current state (null: absent) and the
 * desired one as JSON, the action that follows from comparing them by meaning, and how to apply it.
 */
final class SetupItem {
    final String resource, name;
    final Action action;
    final JsonNode current, desired;
    final String note;
    final Runnable apply;
    String status; // done | failed | skipped | null (dry run: planned)

    SetupItem(String resource, String name, JsonNode current, JsonNode desired, String note, Runnable apply) {
        this.resource = resource;
        this.name = name;
        this.current = current;
        this.desired = desired;
        this.note = note;
        this.apply = apply;
        this.action = current == null ? Action.CREATE : PolicyJson.same(current, desired) ? Action.UNCHANGED : Action.UPDATE;
    }

    String label() { return resource + " " + name; }

    ObjectNode toJson(boolean dryRun) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("resource", resource);
        o.put("name", name);
        o.put("action", action.verb);
        o.put("status", dryRun ? "planned" : status);
        if (note != null) o.put("note", note);
        o.set("desired", desired);
        if (current != null) o.set("current", current);
        if (action == Action.UPDATE) o.put("diff", PolicyJson.diff(current, desired));
        return o;
    }

    enum Action {
        CREATE("create", "created", "would create"), UPDATE("update", "updated", "would update"), UNCHANGED("unchanged", "unchanged", "unchanged");
        final String verb, done, planned;
        Action(String verb, String done, String planned) { this.verb = verb; this.done = done; this.planned = planned; }
    }
}
