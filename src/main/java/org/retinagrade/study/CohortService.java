package org.retinagrade.study;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.retinagrade.audit.AuditTrail;

/** Creates cohorts and summarises their membership. */
@ApplicationScoped
public class CohortService {

    @Inject
    EntityManager entityManager;

    @Inject
    AuditTrail auditTrail;

    /** Member counts of a cohort; grade keys are "0".."4" and "unlabelled", split keys include "unassigned". */
    public record Summary(String name, String description, long members, long patients,
            Map<String, Long> perGrade, Map<String, Long> perSplit, Map<String, Long> perLaterality) {
    }

    /** Returns the cohort with this name, creating it (and an audit event) when it does not exist. */
    @Transactional
    public Cohort findOrCreate(String name, String actor) {
        if (name == null || !name.matches(Cohort.NAME_PATTERN)) {
            throw new IllegalArgumentException("invalid cohort name '" + name
                    + "': use 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit");
        }
        Cohort existing = Cohort.findByName(name);
        if (existing != null) {
            return existing;
        }
        Cohort cohort = new Cohort();
        cohort.name = name;
        cohort.persist();
        auditTrail.append(actor, "cohort.created", "cohort", cohort.id, Map.of("name", name));
        return cohort;
    }

    @Transactional
    public List<Summary> summaries() {
        List<Summary> result = new ArrayList<>();
        for (Cohort cohort : Cohort.<Cohort>listAll(io.quarkus.panache.common.Sort.by("name"))) {
            result.add(summarise(cohort));
        }
        return result;
    }

    @Transactional
    public Optional<Summary> summary(String name) {
        return Optional.ofNullable(Cohort.findByName(name)).map(this::summarise);
    }

    private Summary summarise(Cohort cohort) {
        Map<String, Long> perGrade = new LinkedHashMap<>();
        for (int grade = 0; grade <= 4; grade++) {
            perGrade.put(Integer.toString(grade), 0L);
        }
        perGrade.put("unlabelled", 0L);
        for (Object[] row : rows("SELECT COALESCE(CAST(label AS text), 'unlabelled'), count(*) FROM cohort_member"
                + " WHERE cohort_id = ?1 GROUP BY 1", cohort.id)) {
            perGrade.put((String) row[0], ((Number) row[1]).longValue());
        }

        Map<String, Long> perSplit = new LinkedHashMap<>();
        for (Object[] row : rows("SELECT COALESCE(split, 'unassigned'), count(*) FROM cohort_member"
                + " WHERE cohort_id = ?1 GROUP BY 1 ORDER BY 1", cohort.id)) {
            perSplit.put((String) row[0], ((Number) row[1]).longValue());
        }

        Map<String, Long> perLaterality = new LinkedHashMap<>();
        for (Object[] row : rows("SELECT COALESCE(CAST(i.laterality AS text), 'unknown'), count(*) FROM cohort_member m"
                + " JOIN image i ON i.id = m.image_id WHERE m.cohort_id = ?1 GROUP BY 1 ORDER BY 1", cohort.id)) {
            perLaterality.put((String) row[0], ((Number) row[1]).longValue());
        }

        Object[] totals = (Object[]) entityManager.createNativeQuery("SELECT count(*), count(DISTINCT i.patient_id)"
                + " FROM cohort_member m JOIN image i ON i.id = m.image_id WHERE m.cohort_id = ?1")
                .setParameter(1, cohort.id).getSingleResult();
        return new Summary(cohort.name, cohort.description, ((Number) totals[0]).longValue(),
                ((Number) totals[1]).longValue(), perGrade, perSplit, perLaterality);
    }

    @SuppressWarnings("unchecked")
    private List<Object[]> rows(String sql, Object parameter) {
        return entityManager.createNativeQuery(sql).setParameter(1, parameter).getResultList();
    }
}
