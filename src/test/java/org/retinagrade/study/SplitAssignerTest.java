package org.retinagrade.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SplitAssignerTest {

    /** 300 patients with one or two eyes, both eyes of a patient usually sharing a grade. */
    private static List<SplitAssigner.Member> members() {
        List<SplitAssigner.Member> members = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(5);
        long id = 0;
        for (int patient = 0; patient < 300; patient++) {
            int grade = random.nextInt(5);
            members.add(new SplitAssigner.Member(id++, "p" + patient, grade, "L"));
            if (random.nextDouble() < 0.7) {
                members.add(new SplitAssigner.Member(id++, "p" + patient, grade, "R"));
            }
        }
        return members;
    }

    @Test
    void splitIgnoresDatabasePatientKeys() {
        // The same images under other patient keys (another database numbers its rows differently).
        List<SplitAssigner.Member> here = new ArrayList<>();
        List<SplitAssigner.Member> elsewhere = new ArrayList<>();
        for (SplitAssigner.Member member : members()) {
            String content = "sha-" + member.imageId() + "-" + member.patient();
            here.add(new SplitAssigner.Member(member.imageId(), member.patient(), member.grade(), member.laterality(), content));
            elsewhere.add(new SplitAssigner.Member(member.imageId(), "other-" + (1000 - Integer.parseInt(member.patient().substring(1))),
                    member.grade(), member.laterality(), content));
        }

        assertEquals(SplitAssigner.compute(here, new double[] {0.7, 0.15, 0.15}, 11),
                SplitAssigner.compute(elsewhere, new double[] {0.7, 0.15, 0.15}, 11));
    }

    @Test
    void patientsStayInOneSplit() {
        List<SplitAssigner.Member> members = members();
        Map<Long, String> assignment = SplitAssigner.compute(members, new double[] {0.7, 0.15, 0.15}, 11);
        Map<String, Set<String>> splitsOfPatient = new HashMap<>();
        for (SplitAssigner.Member m : members) {
            splitsOfPatient.computeIfAbsent(m.patient(), k -> new HashSet<>()).add(assignment.get(m.imageId()));
        }
        for (Map.Entry<String, Set<String>> entry : splitsOfPatient.entrySet()) {
            assertEquals(1, entry.getValue().size(), "patient " + entry.getKey() + " is in " + entry.getValue());
        }
    }

    @Test
    void gradeProportionsWithinOneImage() {
        List<SplitAssigner.Member> members = members();
        double[] ratios = {0.7, 0.15, 0.15};
        Map<Long, String> assignment = SplitAssigner.compute(members, ratios, 11);
        for (int grade = 0; grade < 5; grade++) {
            int g = grade;
            long total = members.stream().filter(m -> m.grade() == g).count();
            for (int s = 0; s < 3; s++) {
                String split = SplitAssigner.SPLITS.get(s);
                long count = members.stream().filter(m -> m.grade() == g && assignment.get(m.imageId()).equals(split)).count();
                // Patients bring up to two images, so a split can miss its target by at most one image per grade.
                assertTrue(Math.abs(count - ratios[s] * total) <= 1.0 + 1e-9,
                        "grade " + grade + " " + split + ": " + count + " of " + total + " images, target " + ratios[s] * total);
            }
        }
    }

    @Test
    void sameSeedSameAssignment() {
        assertEquals(SplitAssigner.compute(members(), new double[] {0.7, 0.15, 0.15}, 11),
                SplitAssigner.compute(members(), new double[] {0.7, 0.15, 0.15}, 11));
    }
}
