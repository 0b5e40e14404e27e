package org.retinagrade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RetinaGradeMainTest {

    @Test
    void databaseCommandsNeedDatabase() {
        assertTrue(RetinaGradeMain.needsDatabase(new String[] {"cohort", "list"}));
        assertTrue(RetinaGradeMain.needsDatabase(new String[] {"ingest", "folder", "x", "--cohort", "c"}));
        assertTrue(RetinaGradeMain.needsDatabase(new String[] {"audit", "verify"}));
        assertTrue(RetinaGradeMain.needsDatabase(new String[] {"serve"}));
    }

    @Test
    void helpAndOtherCommandsRunWithoutDatabase() {
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"cohort", "list", "--help"}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"ingest", "--help"}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"cohort"}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"phantom", "--out", "x"}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"augment", "preview", "x.jpg", "--out", "y.png"}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"no-such-command"}));
        assertFalse(RetinaGradeMain.needsDatabase(new String[] {"ingest", "folder"}), "missing parameter is a usage error");
    }

    @Test
    void badProtocolIsRejectedBeforeStart() throws Exception {
        java.nio.file.Path bad = java.nio.file.Path.of("target", "main-bad-protocol.yaml");
        java.nio.file.Files.writeString(bad, "name: x\nunknown: 1\n");
        String problem = RetinaGradeMain.checkProtocolBeforeStart(new String[] {"run", bad.toString()});
        assertNotNull(problem, "the bad protocol passed");
        assertTrue(problem.contains("unknown (line 2): unknown key 'unknown'"), problem);
        assertTrue(RetinaGradeMain.checkProtocolBeforeStart(new String[] {"run"}).startsWith("missing PROTOCOL"));
        assertNull(RetinaGradeMain.checkProtocolBeforeStart(new String[] {"runs"}));
    }

    @Test
    void httpPortIsChecked() {
        assertNull(RetinaGradeMain.checkHttpPort(null));
        assertNull(RetinaGradeMain.checkHttpPort("8080"));
        assertEquals("invalid QUARKUS_HTTP_PORT 'abc': expected a port number from 0 to 65535",
                RetinaGradeMain.checkHttpPort("abc"));
        assertEquals("invalid QUARKUS_HTTP_PORT '70000': expected a port number from 0 to 65535",
                RetinaGradeMain.checkHttpPort("70000"));
    }
}
