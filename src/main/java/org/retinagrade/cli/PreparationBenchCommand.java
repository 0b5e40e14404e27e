package org.retinagrade.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.opencv.core.Mat;
import org.retinagrade.imaging.PreprocessConfig;
import org.retinagrade.imaging.Preprocessor;
import org.retinagrade.imaging.augment.AugmentationPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code retinagrade augment bench}: images per second of decode + preprocess + training augmentation. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {
            "Measure image preparation on one thread: decode, field detection, crop and resize, the default training"
                    + " augmentation pipeline and ImageNet normalisation, over every image in DIR (or DIR/images).",
            "Prints images per second for each round and the median. Files are read into memory first, so disk speed"
                    + " is not measured."
        })
public class PreparationBenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "Folder of JPEG or PNG images.")
    Path folder;

    @Option(names = "--size", defaultValue = "224", description = "Model resolution in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--rounds", defaultValue = "5", description = "Timed rounds over all images (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
        Path images = Files.isDirectory(folder.resolve("images")) ? folder.resolve("images") : folder;
        if (!Files.isDirectory(images)) {
            System.err.println("retinagrade augment bench: folder not found: " + folder);
            return 2;
        }
        if (rounds < 1) {
            System.err.println("retinagrade augment bench: invalid --rounds " + rounds + ": expected 1 or more");
            return 2;
        }
        List<byte[]> encoded = new ArrayList<>();
        try (Stream<Path> files = Files.list(images)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
                if (name.endsWith(".jpeg") || name.endsWith(".jpg") || name.endsWith(".png")) {
                    encoded.add(Files.readAllBytes(file));
                }
            }
        }
        if (encoded.isEmpty()) {
            System.err.println("retinagrade augment bench: no JPEG or PNG images in " + images);
            return 2;
        }

        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.plain(size));
        AugmentationPipeline pipeline = AugmentationPipeline.standardTraining(size);
        runRound(encoded, preprocessor, pipeline, -1);
        double[] rates = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            long start = System.nanoTime();
            runRound(encoded, preprocessor, pipeline, round);
            double seconds = (System.nanoTime() - start) / 1e9;
            rates[round] = encoded.size() / seconds;
            System.out.printf(Locale.ROOT, "round %d: %d images in %.2f s, %.1f images/s%n", round + 1, encoded.size(),
                    seconds, rates[round]);
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "median: %.1f images/s on 1 thread (%d px, %d images)%n", sorted[rounds / 2], size,
                encoded.size());
        return 0;
    }

    private static void runRound(List<byte[]> encoded, Preprocessor preprocessor, AugmentationPipeline pipeline, int epoch) {
        for (int i = 0; i < encoded.size(); i++) {
            Preprocessor.Prepared prepared = preprocessor.prepare(encoded.get(i));
            if (prepared.rgb() == null) {
                continue;
            }
            float[] tensor = pipeline.applyNormalized(prepared.rgb(), 1, epoch, i);
            if (tensor.length == 0) {
                throw new IllegalStateException("empty tensor");
            }
            Mat rgb = prepared.rgb();
            rgb.release();
        }
    }
}
