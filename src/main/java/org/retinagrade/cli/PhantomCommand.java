package org.retinagrade.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.retinagrade.imaging.FundusPhantom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade phantom}: generate a synthetic fundus study. */
@Command(name = "phantom", mixinStandardHelpOptions = true,
        description = {
            "Write SYNTHETIC colour fundus images with known DR grades 0-4 and a Kaggle-layout label CSV.",
            "The images are generated, not photographs of any person: a dark surround, a circular field with"
                    + " vignetting, optic disc, macula, a branching vessel tree and grade-dependent lesions"
                    + " (microaneurysms, haemorrhages, hard exudates, cotton-wool spots, new vessels).",
            "The same seed gives the same files. Output: DIR/images/<patient>_<left|right>.jpeg and DIR/trainLabels.csv."
        })
public class PhantomCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "New or empty folder to write into.")
    Path out;

    @Option(names = "--per-grade", defaultValue = "10", description = "Images per grade, 1 to 100000 (default: ${DEFAULT-VALUE}).")
    int perGrade;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--height", defaultValue = "512",
            description = "Image height in pixels, 64 to 4096; the width is 1.25 times it (default: ${DEFAULT-VALUE}).")
    int height;

    @Override
    public Integer call() {
        if (height < 64 || height > 4096) {
            System.err.println("retinagrade phantom: invalid --height " + height + ": expected 64 to 4096 pixels");
            return 2;
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            System.err.println("retinagrade phantom: --out " + out + " is an existing file; choose a new folder");
            return 2;
        }
        try {
            List<FundusPhantom.Written> written = new FundusPhantom(height).writeStudy(out, perGrade, seed);
            System.out.printf("wrote %d synthetic fundus images (%d per grade, seed %d) and trainLabels.csv to %s%n",
                    written.size(), perGrade, seed, out);
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("retinagrade phantom: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("retinagrade phantom: cannot write to " + out + " (" + e + "); choose a writable folder");
            return 1;
        }
    }
}
