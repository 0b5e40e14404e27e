package org.retinagrade.training;

import java.nio.file.Path;

/** One labelled image of a training or evaluation set. */
public record Sample(long imageId, String sha256, Path file, int label) {
}
