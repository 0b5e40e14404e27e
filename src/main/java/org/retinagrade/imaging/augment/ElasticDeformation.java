package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Elastic deformation (Simard et al., 2003): a displacement field of independent uniform
 * values in [-1, 1] per pixel and axis, smoothed by a Gaussian of {@code sigma} pixels and
 * scaled by {@code alpha} pixels, resampled bilinearly. The displacement is zero outside
 * the circular field of view (the inscribed circle of the square image), so the field's
 * border stays where it is. Applied with probability {@code p}.
 */
public record ElasticDeformation(double alpha, double sigma, double p) implements Augmentation {

    public ElasticDeformation {
        if (!(alpha >= 0)) {
            throw new IllegalArgumentException("invalid elastic alpha " + alpha + ": expected 0 or more pixels");
        }
        if (!(sigma > 0)) {
            throw new IllegalArgumentException("invalid elastic sigma " + sigma + ": expected a positive number of pixels");
        }
        Probability.check(p);
    }

    @Override
    public String name() {
        return "elastic";
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        int width = image.cols();
        int height = image.rows();
        Mat dx = randomField(random, width, height);
        Mat dy = randomField(random, width, height);

        Mat fieldOfView = Mat.zeros(height, width, CvType.CV_32FC1);
        Imgproc.circle(fieldOfView, new Point((width - 1) / 2.0, (height - 1) / 2.0), Math.min(width, height) / 2,
                new Scalar(1), -1);
        Core.multiply(dx, fieldOfView, dx, alpha);
        Core.multiply(dy, fieldOfView, dy, alpha);
        fieldOfView.release();

        float[] mapX = new float[width * height];
        float[] mapY = new float[width * height];
        dx.get(0, 0, mapX);
        dy.get(0, 0, mapY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                mapX[y * width + x] += x;
                mapY[y * width + x] += y;
            }
        }
        dx.put(0, 0, mapX);
        dy.put(0, 0, mapY);

        Mat result = new Mat();
        Imgproc.remap(image, result, dx, dy, Imgproc.INTER_LINEAR, Core.BORDER_CONSTANT, new Scalar(0, 0, 0));
        dx.release();
        dy.release();
        return result;
    }

    private Mat randomField(SplittableRandom random, int width, int height) {
        float[] values = new float[width * height];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        Mat field = new Mat(height, width, CvType.CV_32FC1);
        field.put(0, 0, values);
        Imgproc.GaussianBlur(field, field, new Size(0, 0), sigma, sigma, Core.BORDER_REFLECT_101);
        return field;
    }
}
