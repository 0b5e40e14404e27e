package org.retinagrade.training;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;
import org.opencv.core.Mat;
import org.retinagrade.imaging.PreparedImageCache;
import org.retinagrade.imaging.PreprocessConfig;
import org.retinagrade.imaging.Preprocessor;

/** Prepares the images of a sample list through the cache, as packed 8-bit RGB; null marks an ungradable image. */
public final class PreparedImages {

    private static final Logger LOG = Logger.getLogger(PreparedImages.class);

    private PreparedImages() {
    }

    public static List<byte[]> prepareAll(List<Sample> samples, PreprocessConfig config, PreparedImageCache cache,
            PrintStream progress, String role) throws IOException {
        Preprocessor preprocessor = new Preprocessor(config);
        List<byte[]> prepared = new ArrayList<>(samples.size());
        int ungradable = 0;
        for (Sample sample : samples) {
            Optional<Mat> cached = cache.get(sample.sha256(), config);
            Mat rgb;
            if (cached.isPresent()) {
                rgb = cached.get();
            } else {
                Preprocessor.Prepared result = preprocessor.prepare(Files.readAllBytes(sample.file()));
                if (!result.gradable()) {
                    LOG.warnf("%s image %d is ungradable and left out: %s", role, sample.imageId(), result.region().reason());
                    prepared.add(null);
                    ungradable++;
                    continue;
                }
                rgb = result.rgb();
                cache.put(sample.sha256(), config, rgb);
            }
            byte[] pixels = new byte[(int) rgb.total() * 3];
            rgb.get(0, 0, pixels);
            rgb.release();
            prepared.add(pixels);
        }
        if (ungradable > 0) {
            progress.printf("%d %s images are ungradable and left out%n", ungradable, role);
        }
        return prepared;
    }
}
