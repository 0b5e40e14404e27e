package org.retinagrade.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The hash-chained audit trail. Each event stores {@code hash = SHA-256(prev_hash ||
 * canonical)}, where {@code prev_hash} is the previous event's hash (64 zeros for the first
 * event) and {@code canonical} is the JSON array {@code [actor, action, entity, entity_id,
 * occurred_at, details]} with {@code occurred_at} in ISO-8601 UTC at microsecond precision.
 * A database trigger rejects UPDATE, DELETE and TRUNCATE on the table, so changing history
 * needs the trigger disabled, and {@link #verify()} then finds a changed, inserted or removed
 * event. NOTE: removing only the newest events leaves a shorter chain that still verifies,
 * because the head hash is not anchored outside the table.
 */
@ApplicationScoped
public class AuditTrail {

    /** The previous hash of the first event in the chain. */
    public static final String GENESIS_HASH = "0".repeat(64);

    private static final int VERIFY_PAGE_SIZE = 1000;
    private static final ObjectMapper CANONICAL_JSON = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    @Inject
    EntityManager entityManager;

    /**
     * Appends an event inside the caller's transaction (or a new one). Appends are
     * serialised by a transaction-scoped advisory lock so that two writers never link to
     * the same previous event.
     *
     * @param details string, number or boolean values; keys are sorted in the stored form
     */
    @Transactional
    public AuditEvent append(String actor, String action, String entity, Object entityId, Map<String, ?> details) {
        entityManager.createNativeQuery("SELECT pg_advisory_xact_lock(hashtext('audit_event'))").getSingleResult();
        List<?> last = entityManager.createNativeQuery("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1")
                .getResultList();
        String prevHash = last.isEmpty() ? GENESIS_HASH : last.get(0).toString();

        AuditEvent event = new AuditEvent();
        event.actor = actor;
        event.action = action;
        event.entity = entity;
        event.entityId = entityId == null ? null : entityId.toString();
        event.occurredAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        event.details = toCanonicalJson(details);
        event.prevHash = prevHash;
        event.hash = hashOf(prevHash, event);
        event.persist();
        return event;
    }

    /** Returns the most recent events, oldest first. */
    @Transactional
    public List<AuditEvent> latest(int limit) {
        List<AuditEvent> events = new java.util.ArrayList<>(
                AuditEvent.<AuditEvent>find("ORDER BY id DESC").page(0, limit).list());
        java.util.Collections.reverse(events);
        return events;
    }

    /** The outcome of walking the chain: the count checked and the first broken link, if any. */
    public record Verification(long eventsChecked, Optional<Long> firstBrokenId, String problem) {
        public boolean intact() {
            return firstBrokenId.isEmpty();
        }
    }

    /** Walks the chain in id order and stops at the first event whose links or hash do not match. */
    @Transactional
    public Verification verify() {
        String expectedPrev = GENESIS_HASH;
        long checked = 0;
        long afterId = 0;
        while (true) {
            List<AuditEvent> page = AuditEvent.find("id > ?1 ORDER BY id", afterId).page(0, VERIFY_PAGE_SIZE).list();
            if (page.isEmpty()) {
                return new Verification(checked, Optional.empty(), "");
            }
            for (AuditEvent event : page) {
                if (!event.prevHash.equals(expectedPrev)) {
                    return new Verification(checked, Optional.of(event.id),
                            "prev_hash " + event.prevHash + " does not match the hash " + expectedPrev
                                    + " of the event before it (an event was removed, inserted or reordered)");
                }
                String recomputed = hashOf(event.prevHash, event);
                if (!recomputed.equals(event.hash)) {
                    return new Verification(checked, Optional.of(event.id),
                            "stored hash " + event.hash + " does not match the recomputed hash " + recomputed
                                    + " (the event's content was changed)");
                }
                expectedPrev = event.hash;
                afterId = event.id;
                checked++;
            }
            entityManager.clear();
        }
    }

    static String hashOf(String prevHash, AuditEvent event) {
        String canonical = toCanonicalJson(Arrays.asList(event.actor, event.action, event.entity, event.entityId,
                event.occurredAt.truncatedTo(ChronoUnit.MICROS).toString(), event.details));
        return sha256Hex(prevHash + canonical);
    }

    private static String toCanonicalJson(Object value) {
        try {
            return CANONICAL_JSON.writeValueAsString(value == null ? Map.of() : value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("audit details cannot be written as JSON: " + e.getMessage(), e);
        }
    }

    private static String sha256Hex(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
