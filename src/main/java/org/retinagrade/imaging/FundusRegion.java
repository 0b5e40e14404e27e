package org.retinagrade.imaging;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfDouble;
import org.opencv.core.Point;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * The circular field of view of a fundus photograph, found on full camera output.
 *
 * <p>Method: on a copy scaled to at most {@value #WORK_SIZE} pixels on its long side, the
 * per-pixel maximum over R, G and B is median-filtered (3x3) and thresholded just above the
 * background level (the darkest of the four corner patches), so that a vignetted field edge
 * still counts as field. When noise in the surround reaches the frame on every row at that
 * level, Otsu's threshold is used instead. After a morphological opening the largest
 * connected component is kept, which drops printed text and specks in the surround. Its
 * left and right ends on every row are boundary points, except where they touch the image
 * border (a field clipped by the frame). A least-squares circle (Kasa fit) is fitted to
 * them and refitted three times without points more than 3 median absolute residuals
 * away, which ignores notches. The top and bottom ends of the columns then join the fit
 * where they lie within 1 % of the radius of that circle, which keeps flat cut-offs of the
 * camera mask out.
 *
 * <p>An image without a usable field is returned as ungradable with the statistic that
 * decided it, rather than raising an exception. Stateless and thread-safe.
 */
public record FundusRegion(double centreX, double centreY, double radius, boolean gradable, String reason,
        Map<String, Double> statistics) {

    static final int WORK_SIZE = 640;
    /** Mean luminance (0-1) inside the field below which an image is too dark to grade. */
    public static final double MIN_MEAN_LUMINANCE = 0.06;
    /** Luminance standard deviation (0-1) inside the field below which the field is blank. */
    public static final double MIN_LUMINANCE_STD = 0.01;
    private static final int MIN_BOUNDARY_POINTS = 16;

    /** Detects the field in an 8-bit RGB image. */
    public static FundusRegion detect(Mat rgb) {
        OpenCv.load();
        double scale = Math.min(1.0, WORK_SIZE / (double) Math.max(rgb.cols(), rgb.rows()));
        if (scale == 1.0) {
            return detectScaled(rgb, rgb, scale);
        }
        Mat small = new Mat();
        Imgproc.resize(rgb, small, new Size(Math.round(rgb.cols() * scale), Math.round(rgb.rows() * scale)), 0, 0,
                Imgproc.INTER_AREA);
        try {
            return detectScaled(rgb, small, scale);
        } finally {
            small.release();
        }
    }

    private static FundusRegion detectScaled(Mat original, Mat small, double scale) {
        Map<String, Double> statistics = new LinkedHashMap<>();
        int width = small.cols();
        int height = small.rows();

        List<Mat> channels = new ArrayList<>();
        Core.split(small, channels);
        Mat brightness = new Mat();
        Core.max(channels.get(0), channels.get(1), brightness);
        Core.max(brightness, channels.get(2), brightness);
        channels.forEach(Mat::release);
        Imgproc.medianBlur(brightness, brightness, 3);

        byte[] values = new byte[width * height];
        brightness.get(0, 0, values);
        brightness.release();
        double background = cornerBackground(values, width, height);
        double p90 = percentile(values, 0.90);
        statistics.put("background", background);
        statistics.put("brightness_p90", p90);
        if (p90 - background < 10) {
            return ungradable(String.format(Locale.ROOT,
                    "no fundus field found: 90th-percentile brightness %.0f is within 10 levels of the background %.0f",
                    p90, background), statistics);
        }

        // The low threshold keeps vignetted field edges. When noise in the surround joins the field
        // to the frame on every row, Otsu's threshold separates the two instead.
        int[] largest = null;
        List<double[]> rowPoints = List.of();
        for (int attempt = 0; attempt < 2; attempt++) {
            double threshold = attempt == 0 ? background + Math.max(4, 0.08 * (p90 - background)) : otsuThreshold(values);
            largest = fieldMask(values, width, height, threshold);
            rowPoints = rowBoundaryPoints(largest, width, height);
            if (rowPoints.size() >= MIN_BOUNDARY_POINTS) {
                statistics.put("threshold", threshold);
                break;
            }
        }
        statistics.put("field_fraction", count(largest) / (double) largest.length);

        // Row ends lie on the circle even where a camera mask cuts the field flat at the top or
        // bottom. Column ends do not, so they join the fit only where they agree with the row fit.
        statistics.put("boundary_points", (double) rowPoints.size());
        if (rowPoints.size() < MIN_BOUNDARY_POINTS) {
            return ungradable("no circular fundus field found: only " + rowPoints.size() + " boundary points", statistics);
        }
        double[] circle = robustCircleFit(rowPoints);
        if (circle != null) {
            List<double[]> points = new ArrayList<>(rowPoints);
            double tolerance = Math.max(1.5, 0.01 * circle[2]);
            for (double[] point : columnBoundaryPoints(largest, width, height)) {
                if (Math.abs(Math.hypot(point[0] - circle[0], point[1] - circle[1]) - circle[2]) <= tolerance) {
                    points.add(point);
                }
            }
            circle = robustCircleFit(points);
        }
        if (circle == null || circle[2] < 0.1 * Math.min(width, height) || circle[2] > 2 * Math.max(width, height)) {
            return ungradable(String.format(Locale.ROOT, "no circular fundus field found: fitted radius %.1f px of a %dx%d image",
                    circle == null ? Double.NaN : circle[2], width, height), statistics);
        }
        statistics.put("fit_residual_px", circle[3] / scale);

        double centreX = (circle[0] + 0.5) / scale - 0.5;
        double centreY = (circle[1] + 0.5) / scale - 0.5;
        double radius = circle[2] / scale;
        double[] luminance = fieldLuminance(small, circle);
        statistics.put("mean_luminance", luminance[0]);
        statistics.put("luminance_std", luminance[1]);
        if (luminance[0] < MIN_MEAN_LUMINANCE) {
            return new FundusRegion(centreX, centreY, radius, false, String.format(Locale.ROOT,
                    "field too dark: mean luminance %.3f is below %.3f", luminance[0], MIN_MEAN_LUMINANCE), statistics);
        }
        if (luminance[1] < MIN_LUMINANCE_STD) {
            return new FundusRegion(centreX, centreY, radius, false, String.format(Locale.ROOT,
                    "blank field: luminance standard deviation %.4f is below %.4f", luminance[1], MIN_LUMINANCE_STD), statistics);
        }
        return new FundusRegion(centreX, centreY, radius, true, "", statistics);
    }

    /** Thresholds the brightness, opens the mask and returns its largest connected component as 0/1 values. */
    private static int[] fieldMask(byte[] values, int width, int height, double threshold) {
        byte[] maskValues = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            maskValues[i] = (byte) ((values[i] & 0xFF) > threshold ? 1 : 0);
        }
        Mat mask = new Mat(height, width, CvType.CV_8UC1);
        mask.put(0, 0, maskValues);
        // An opening with a disc of about 1.5 % of the short side removes isolated speckle.
        int kernel = Math.max(3, (int) Math.round(Math.min(width, height) / 64.0)) | 1;
        Mat disc = Imgproc.getStructuringElement(Imgproc.MORPH_ELLIPSE, new Size(kernel, kernel));
        Imgproc.morphologyEx(mask, mask, Imgproc.MORPH_OPEN, disc);
        disc.release();
        int[] largest = largestComponent(mask);
        mask.release();
        return largest;
    }

    /** Otsu's threshold of an 8-bit histogram: the level that maximises the between-class variance. */
    static double otsuThreshold(byte[] values) {
        long[] histogram = new long[256];
        for (byte v : values) {
            histogram[v & 0xFF]++;
        }
        double total = values.length;
        double sumAll = 0;
        for (int level = 0; level < 256; level++) {
            sumAll += level * (double) histogram[level];
        }
        double sumBelow = 0;
        double weightBelow = 0;
        double best = -1;
        int bestLevel = 0;
        for (int level = 0; level < 256; level++) {
            weightBelow += histogram[level];
            if (weightBelow == 0 || weightBelow == total) {
                continue;
            }
            sumBelow += level * (double) histogram[level];
            double meanBelow = sumBelow / weightBelow;
            double meanAbove = (sumAll - sumBelow) / (total - weightBelow);
            double between = weightBelow * (total - weightBelow) * (meanBelow - meanAbove) * (meanBelow - meanAbove);
            if (between > best) {
                best = between;
                bestLevel = level;
            }
        }
        return bestLevel;
    }

    private static FundusRegion ungradable(String reason, Map<String, Double> statistics) {
        return new FundusRegion(Double.NaN, Double.NaN, Double.NaN, false, reason, statistics);
    }

    /** Median of each 5 %-sized corner patch; the darkest corner is the background. */
    private static double cornerBackground(byte[] values, int width, int height) {
        int patchW = Math.max(2, width / 20);
        int patchH = Math.max(2, height / 20);
        double darkest = 255;
        int[][] origins = {{0, 0}, {width - patchW, 0}, {0, height - patchH}, {width - patchW, height - patchH}};
        for (int[] origin : origins) {
            byte[] patch = new byte[patchW * patchH];
            int k = 0;
            for (int y = origin[1]; y < origin[1] + patchH; y++) {
                for (int x = origin[0]; x < origin[0] + patchW; x++) {
                    patch[k++] = values[y * width + x];
                }
            }
            darkest = Math.min(darkest, percentile(patch, 0.5));
        }
        return darkest;
    }

    private static double percentile(byte[] values, double quantile) {
        int[] histogram = new int[256];
        for (byte v : values) {
            histogram[v & 0xFF]++;
        }
        long target = (long) Math.ceil(quantile * values.length);
        long seen = 0;
        for (int level = 0; level < 256; level++) {
            seen += histogram[level];
            if (seen >= target) {
                return level;
            }
        }
        return 255;
    }

    /** Returns a 0/1 array of the largest 8-connected component of the mask. */
    private static int[] largestComponent(Mat mask) {
        Mat labels = new Mat();
        Mat stats = new Mat();
        Mat centroids = new Mat();
        int count = Imgproc.connectedComponentsWithStats(mask, labels, stats, centroids, 8, CvType.CV_32S);
        int best = 0;
        double bestArea = 0;
        for (int label = 1; label < count; label++) {
            double area = stats.get(label, Imgproc.CC_STAT_AREA)[0];
            if (area > bestArea) {
                bestArea = area;
                best = label;
            }
        }
        int[] result = new int[mask.rows() * mask.cols()];
        if (best > 0) {
            Mat selected = new Mat();
            Core.compare(labels, new Scalar(best), selected, Core.CMP_EQ);
            byte[] selectedValues = new byte[result.length];
            selected.get(0, 0, selectedValues);
            selected.release();
            for (int i = 0; i < result.length; i++) {
                result[i] = selectedValues[i] != 0 ? 1 : 0;
            }
        }
        labels.release();
        stats.release();
        centroids.release();
        return result;
    }

    private static int count(int[] mask) {
        int total = 0;
        for (int v : mask) {
            total += v;
        }
        return total;
    }

    private static List<double[]> rowBoundaryPoints(int[] mask, int width, int height) {
        List<double[]> points = new ArrayList<>();
        for (int y = 0; y < height; y++) {
            int first = -1;
            int last = -1;
            for (int x = 0; x < width; x++) {
                if (mask[y * width + x] != 0) {
                    if (first < 0) {
                        first = x;
                    }
                    last = x;
                }
            }
            if (first > 0) {
                points.add(new double[] {first - 0.5, y});
            }
            if (last >= 0 && last < width - 1) {
                points.add(new double[] {last + 0.5, y});
            }
        }
        return points;
    }

    private static List<double[]> columnBoundaryPoints(int[] mask, int width, int height) {
        int[] first = new int[width];
        int[] last = new int[width];
        java.util.Arrays.fill(first, -1);
        java.util.Arrays.fill(last, -1);
        for (int y = 0; y < height; y++) {
            int row = y * width;
            for (int x = 0; x < width; x++) {
                if (mask[row + x] != 0) {
                    if (first[x] < 0) {
                        first[x] = y;
                    }
                    last[x] = y;
                }
            }
        }
        List<double[]> points = new ArrayList<>();
        for (int x = 0; x < width; x++) {
            if (first[x] > 0) {
                points.add(new double[] {x, first[x] - 0.5});
            }
            if (last[x] >= 0 && last[x] < height - 1) {
                points.add(new double[] {x, last[x] + 0.5});
            }
        }
        return points;
    }

    /** Returns {centreX, centreY, radius, median absolute residual}, or null when the fit is degenerate. */
    static double[] robustCircleFit(List<double[]> points) {
        List<double[]> inliers = points;
        double[] circle = null;
        for (int iteration = 0; iteration < 4; iteration++) {
            circle = kasaFit(inliers);
            if (circle == null) {
                return null;
            }
            double[] residuals = new double[inliers.size()];
            for (int i = 0; i < residuals.length; i++) {
                residuals[i] = Math.abs(Math.hypot(inliers.get(i)[0] - circle[0], inliers.get(i)[1] - circle[1]) - circle[2]);
            }
            double[] sorted = residuals.clone();
            java.util.Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            double[] withResidual = {circle[0], circle[1], circle[2], median};
            circle = withResidual;
            if (iteration == 3) {
                break;
            }
            double limit = Math.max(1.0, 3 * median);
            List<double[]> nextInliers = new ArrayList<>();
            for (int i = 0; i < residuals.length; i++) {
                if (residuals[i] <= limit) {
                    nextInliers.add(inliers.get(i));
                }
            }
            if (nextInliers.size() < MIN_BOUNDARY_POINTS) {
                break;
            }
            inliers = nextInliers;
        }
        return circle;
    }

    /** Algebraic circle fit: least squares of x^2 + y^2 + D x + E y + F = 0. */
    private static double[] kasaFit(List<double[]> points) {
        double[][] a = new double[3][3];
        double[] b = new double[3];
        for (double[] p : points) {
            double[] row = {p[0], p[1], 1};
            double z = -(p[0] * p[0] + p[1] * p[1]);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    a[i][j] += row[i] * row[j];
                }
                b[i] += row[i] * z;
            }
        }
        double[] solution = solve3(a, b);
        if (solution == null) {
            return null;
        }
        double centreX = -solution[0] / 2;
        double centreY = -solution[1] / 2;
        double squared = centreX * centreX + centreY * centreY - solution[2];
        return squared <= 0 ? null : new double[] {centreX, centreY, Math.sqrt(squared)};
    }

    private static double[] solve3(double[][] a, double[] b) {
        org.apache.commons.math3.linear.RealMatrix matrix = new org.apache.commons.math3.linear.Array2DRowRealMatrix(a);
        org.apache.commons.math3.linear.DecompositionSolver solver =
                new org.apache.commons.math3.linear.LUDecomposition(matrix).getSolver();
        if (!solver.isNonSingular()) {
            return null;
        }
        return solver.solve(new org.apache.commons.math3.linear.ArrayRealVector(b)).toArray();
    }

    /** Mean and standard deviation of BT.601 luminance (0-1) inside the fitted circle. */
    private static double[] fieldLuminance(Mat rgb, double[] circle) {
        Mat gray = new Mat();
        Imgproc.cvtColor(rgb, gray, Imgproc.COLOR_RGB2GRAY);
        Mat circleMask = Mat.zeros(rgb.rows(), rgb.cols(), CvType.CV_8UC1);
        Imgproc.circle(circleMask, new Point(circle[0], circle[1]), (int) Math.round(circle[2] * 0.95), new Scalar(255), -1);
        MatOfDouble mean = new MatOfDouble();
        MatOfDouble std = new MatOfDouble();
        Core.meanStdDev(gray, mean, std, circleMask);
        double[] result = {mean.toArray()[0] / 255.0, std.toArray()[0] / 255.0};
        gray.release();
        circleMask.release();
        return result;
    }
}
