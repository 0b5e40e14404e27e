package org.retinagrade.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.retinagrade.imaging.PreviewGrid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code retinagrade augment ...}: look at and measure image preparation. */
@Command(name = "augment", description = "Preview and measure fundus preprocessing and augmentation.",
        mixinStandardHelpOptions = true, subcommands = {AugmentCommand.Preview.class, PreparationBenchCommand.class})
public class AugmentCommand {

    @Command(name = "preview", mixinStandardHelpOptions = true,
            description = {
                "Write a labelled PNG grid of one image: the detected field, crop and resize, Ben Graham, CLAHE,"
                        + " each augmentation on its own (probability 1), and three samples of the default training pipeline."
            })
    static class Preview implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "IMAGE", description = "Fundus photograph (JPEG, PNG, TIFF or BMP).")
        Path image;

        @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "PNG file to write.")
        Path out;

        @Option(names = "--size", defaultValue = "224", description = "Tile size and model resolution in pixels (default: ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--seed", defaultValue = "1", description = "Seed of the augmentation draws (default: ${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(image)) {
                System.err.println("retinagrade augment preview: image not found: " + image);
                return 2;
            }
            if (size < 32 || size > 1024) {
                System.err.println("retinagrade augment preview: invalid --size " + size + ": expected 32 to 1024 pixels");
                return 2;
            }
            try {
                int tiles = PreviewGrid.write(Files.readAllBytes(image), size, seed, out);
                System.out.println("wrote " + tiles + " tiles to " + out);
                return 0;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade augment preview: " + image + ": " + e.getMessage());
                return 2;
            }
        }
    }
}
