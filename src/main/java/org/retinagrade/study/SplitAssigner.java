package org.retinagrade.study;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.retinagrade.audit.AuditTrail;

/**
 * Assigns the labelled members of a cohort to train, validation and test at patient level,
 * stratified by grade: patients are grouped by their highest grade, shuffled with the seed
 * (then ordered by image count, largest first), and each patient goes, with all of its
 * images, to the split furthest below its target share of that grade's images. Members
 * outside the filters (laterality, grade, and optionally the ungradable flag set at
 * ingest) get no split. An assignment already stored is kept when it is the same and
 * rejected when it differs, so nothing stored is overwritten.
 */
@ApplicationScoped
public class SplitAssigner {

    static final List<String> SPLITS = List.of("train", "validation", "test");

    @Inject
    EntityManager entityManager;

    @Inject
    AuditTrail auditTrail;

    /**
     * One member: image, patient key, grade, laterality and a content key (the image's SHA-256)
     * that orders patients the same way in every database, whatever their row ids.
     */
    record Member(long imageId, String patient, int grade, String laterality, String contentKey) {

        Member(long imageId, String patient, int grade, String laterality) {
            this(imageId, patient, grade, laterality, patient);
        }
    }

    /** Member filters: lateralities and grades (null for all), and whether images flagged ungradable are left out. */
    public record Filters(Set<String> lateralities, Set<Integer> grades, boolean gradableOnly) {
    }

    /**
     * Checks, without writing, that an existing cohort's stored assignment agrees with these
     * settings on its current members; a new or unsplit cohort always passes.
     */
    public void check(String cohortName, double[] ratios, long seed, Filters filters) {
        if (QuarkusTransaction.requiringNew().call(() -> Cohort.findByName(cohortName)) != null) {
            assign(cohortName, ratios, seed, filters, null, true);
        }
    }

    /** Returns image counts per split and grade, after storing the assignment. */
    public Map<String, int[]> assign(String cohortName, double[] ratios, long seed, Filters filters, String actor) {
        return assign(cohortName, ratios, seed, filters, actor, false);
    }

    private Map<String, int[]> assign(String cohortName, double[] ratios, long seed, Filters filters, String actor,
            boolean checkOnly) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Cohort cohort = Cohort.findByName(cohortName);
            if (cohort == null) {
                throw new IllegalArgumentException("cohort '" + cohortName + "' not found");
            }
            @SuppressWarnings("unchecked")
            List<Object[]> rows = entityManager.createNativeQuery("SELECT i.id, COALESCE(CAST(i.patient_id AS text),"
                    + " 'image:' || i.id), m.label, COALESCE(CAST(i.laterality AS text), 'unknown'), m.split,"
                    + " EXISTS (SELECT 1 FROM unnest(i.quality_flags) f WHERE f LIKE 'ungradable%'), i.sha256 FROM cohort_member m"
                    + " JOIN image i ON i.id = m.image_id WHERE m.cohort_id = ?1 AND m.label IS NOT NULL ORDER BY i.id")
                    .setParameter(1, cohort.id).getResultList();
            List<Member> members = new ArrayList<>();
            Map<Long, String> stored = new LinkedHashMap<>();
            for (Object[] row : rows) {
                Member member = new Member(((Number) row[0]).longValue(), (String) row[1], ((Number) row[2]).intValue(),
                        (String) row[3], String.valueOf(row[6]));
                stored.put(member.imageId(), (String) row[4]);
                boolean flagged = Boolean.TRUE.equals(row[5]);
                if ((filters.lateralities() == null || filters.lateralities().contains(member.laterality()))
                        && (filters.grades() == null || filters.grades().contains(member.grade()))
                        && !(filters.gradableOnly() && flagged)) {
                    members.add(member);
                }
            }
            Map<Long, String> assignment = compute(members, ratios, seed);

            boolean anyStored = stored.values().stream().anyMatch(s -> s != null);
            if (anyStored) {
                for (Map.Entry<Long, String> entry : stored.entrySet()) {
                    String computed = assignment.get(entry.getKey());
                    if (!java.util.Objects.equals(computed, entry.getValue())) {
                        throw new IllegalArgumentException("cohort '" + cohortName + "' already has a split assignment that"
                                + " differs from this protocol's (image " + entry.getKey() + ": stored " + entry.getValue()
                                + ", now " + computed + "); use another cohort name, or the split settings it was made with");
                    }
                }
            } else if (!checkOnly) {
                for (Map.Entry<Long, String> entry : assignment.entrySet()) {
                    entityManager.createNativeQuery("UPDATE cohort_member SET split = ?1 WHERE cohort_id = ?2 AND image_id = ?3")
                            .setParameter(1, entry.getValue()).setParameter(2, cohort.id).setParameter(3, entry.getKey())
                            .executeUpdate();
                }
            }
            Map<String, int[]> counts = new LinkedHashMap<>();
            SPLITS.forEach(s -> counts.put(s, new int[5]));
            for (Member member : members) {
                counts.get(assignment.get(member.imageId()))[member.grade()]++;
            }
            if (!anyStored && !checkOnly) {
                Map<String, Object> details = new LinkedHashMap<>();
                counts.forEach((split, perGrade) -> details.put(split, java.util.Arrays.stream(perGrade).sum()));
                details.put("seed", seed);
                auditTrail.append(actor, "cohort.split.assigned", "cohort", cohort.id, details);
            }
            return counts;
        });
    }

    /** Computes the assignment without the database: image id to split. */
    static Map<Long, String> compute(List<Member> members, double[] ratios, long seed) {
        Map<String, List<Member>> byPatient = new TreeMap<>();
        for (Member member : members) {
            byPatient.computeIfAbsent(member.patient(), k -> new ArrayList<>()).add(member);
        }
        Map<Integer, List<List<Member>>> strata = new TreeMap<>();
        for (List<Member> patient : byPatient.values()) {
            int grade = patient.stream().mapToInt(Member::grade).max().orElse(0);
            strata.computeIfAbsent(grade, k -> new ArrayList<>()).add(patient);
        }
        Map<Long, String> assignment = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(seed);
        for (Map.Entry<Integer, List<List<Member>>> stratum : strata.entrySet()) {
            List<List<Member>> patients = stratum.getValue();
            // Ordered by content before the seeded shuffle, so that the same images give the same
            // split in any database (row ids and pseudonyms differ between installations).
            patients.sort(Comparator.comparing(p -> p.stream().map(Member::contentKey).min(String::compareTo).orElse("")));
            for (int i = patients.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                List<Member> swap = patients.get(i);
                patients.set(i, patients.get(j));
                patients.set(j, swap);
            }
            // Patients with more images go first, so that single images fine-tune the shares at the end.
            patients.sort(Comparator.comparingInt((List<Member> p) -> p.size()).reversed());
            int total = patients.stream().mapToInt(List::size).sum();
            double[] assigned = new double[SPLITS.size()];
            for (List<Member> patient : patients) {
                int best = 0;
                double bestDeficit = Double.NEGATIVE_INFINITY;
                for (int s = 0; s < SPLITS.size(); s++) {
                    if (ratios[s] <= 0) {
                        continue;
                    }
                    double deficit = ratios[s] * total - assigned[s];
                    if (deficit > bestDeficit + 1e-12) {
                        bestDeficit = deficit;
                        best = s;
                    }
                }
                assigned[best] += patient.size();
                for (Member member : patient) {
                    assignment.put(member.imageId(), SPLITS.get(best));
                }
            }
        }
        return assignment;
    }
}
