package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Core;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Scalar;
import org.opencv.imgproc.Imgproc;

/**
 * Rotates about the image centre by an angle drawn uniformly from [-maxDegrees, maxDegrees]
 * (fundus photographs have no "up", so 180 is the usual setting); bilinear resampling,
 * black outside the source.
 */
public record RandomRotation(double maxDegrees) implements Augmentation {

    public RandomRotation {
        if (!(maxDegrees >= 0 && maxDegrees <= 180)) {
            throw new IllegalArgumentException("invalid rotation " + maxDegrees + " degrees: expected 0 to 180");
        }
    }

    @Override
    public String name() {
        return "rotation";
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        double angle = maxDegrees == 0 ? 0 : random.nextDouble(-maxDegrees, maxDegrees);
        Mat matrix = Imgproc.getRotationMatrix2D(new Point((image.cols() - 1) / 2.0, (image.rows() - 1) / 2.0), angle, 1.0);
        Mat result = new Mat();
        Imgproc.warpAffine(image, result, matrix, image.size(), Imgproc.INTER_LINEAR, Core.BORDER_CONSTANT, new Scalar(0, 0, 0));
        matrix.release();
        return result;
    }
}
