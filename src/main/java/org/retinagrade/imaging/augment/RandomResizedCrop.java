package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Mat;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Crops a random box of a random area fraction ({@code scale}) and aspect ratio
 * ({@code ratio}, drawn uniformly in log space) and resizes it to {@code size}, with
 * torchvision's algorithm: ten tries at a box that fits, then a centre crop of the nearest
 * allowed ratio.
 */
public record RandomResizedCrop(int size, double minScale, double maxScale, double minRatio, double maxRatio)
        implements Augmentation {

    public RandomResizedCrop {
        if (size < 8) {
            throw new IllegalArgumentException("invalid crop size " + size + ": expected 8 pixels or more");
        }
        if (!(0 < minScale && minScale <= maxScale && maxScale <= 1)) {
            throw new IllegalArgumentException("invalid crop scale (" + minScale + ", " + maxScale + "): expected 0 < min <= max <= 1");
        }
        if (!(0 < minRatio && minRatio <= maxRatio)) {
            throw new IllegalArgumentException("invalid crop ratio (" + minRatio + ", " + maxRatio + "): expected 0 < min <= max");
        }
    }

    /** torchvision's defaults for fundus work here: scale 0.8-1.0, ratio 3/4-4/3. */
    public static RandomResizedCrop standard(int size) {
        return new RandomResizedCrop(size, 0.8, 1.0, 3.0 / 4.0, 4.0 / 3.0);
    }

    @Override
    public String name() {
        return "random-resized-crop";
    }

    /** Draws the crop box {x, y, width, height} for an image of the given size. */
    public int[] cropBox(SplittableRandom random, int width, int height) {
        double area = (double) width * height;
        double logMin = Math.log(minRatio);
        double logMax = Math.log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * uniform(random, minScale, maxScale);
            double aspect = Math.exp(uniform(random, logMin, logMax));
            int w = (int) Math.round(Math.sqrt(targetArea * aspect));
            int h = (int) Math.round(Math.sqrt(targetArea / aspect));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int y = random.nextInt(height - h + 1);
                int x = random.nextInt(width - w + 1);
                return new int[] {x, y, w, h};
            }
        }
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < minRatio) {
            w = width;
            h = (int) Math.round(w / minRatio);
        } else if (inRatio > maxRatio) {
            h = height;
            w = (int) Math.round(h * maxRatio);
        } else {
            w = width;
            h = height;
        }
        return new int[] {(width - w) / 2, (height - h) / 2, w, h};
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        int[] box = cropBox(random, image.cols(), image.rows());
        Mat crop = image.submat(new Rect(box[0], box[1], box[2], box[3]));
        Mat result = new Mat();
        int interpolation = box[2] > size || box[3] > size ? Imgproc.INTER_AREA : Imgproc.INTER_LINEAR;
        Imgproc.resize(crop, result, new Size(size, size), 0, 0, interpolation);
        crop.release();
        return result;
    }

    private static double uniform(SplittableRandom random, double low, double high) {
        return low == high ? low : random.nextDouble(low, high);
    }
}
