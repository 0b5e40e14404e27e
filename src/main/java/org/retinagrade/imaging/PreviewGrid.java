package org.retinagrade.imaging;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.retinagrade.imaging.augment.Augmentation;
import org.retinagrade.imaging.augment.AugmentationPipeline;
import org.retinagrade.imaging.augment.SampleRandom;

/**
 * Draws a labelled grid of one fundus image through the preprocessing steps and under each
 * augmentation, so that users can see what a configuration does before training with it.
 */
public final class PreviewGrid {

    private static final int COLUMNS = 5;
    private static final int LABEL_HEIGHT = 22;

    private PreviewGrid() {
    }

    private record Tile(String label, BufferedImage image) {
    }

    /** Writes the grid for an encoded image to {@code out} as PNG and returns the number of tiles. */
    public static int write(byte[] encoded, int size, long seed, Path out) throws IOException {
        OpenCv.load();
        Mat original = Preprocessor.decode(encoded);
        List<Tile> tiles = new ArrayList<>();
        FundusRegion region = FundusRegion.detect(original);

        BufferedImage originalTile = fit(toImage(original), size);
        tiles.add(new Tile("original " + original.cols() + "x" + original.rows(), originalTile));
        BufferedImage detected = fit(toImage(original), size);
        if (region.gradable()) {
            drawCircle(detected, region, original.cols(), original.rows(), size);
            tiles.add(new Tile(String.format("field r=%.0f px", region.radius()), detected));
        } else {
            tiles.add(new Tile("UNGRADABLE", detected));
        }
        if (!region.gradable()) {
            original.release();
            writePng(tiles, size, out, "ungradable: " + region.reason());
            return tiles.size();
        }

        Mat prepared = new Preprocessor(PreprocessConfig.plain(size)).prepare(original).rgb();
        tiles.add(new Tile("crop + resize " + size, toImage(prepared)));
        Mat benGraham = new Preprocessor(new PreprocessConfig(size, true, false, 2.0, 8)).prepare(original).rgb();
        tiles.add(new Tile("Ben Graham", toImage(benGraham)));
        Mat clahe = new Preprocessor(new PreprocessConfig(size, false, true, 2.0, 8)).prepare(original).rgb();
        tiles.add(new Tile("CLAHE (L channel)", toImage(clahe)));
        benGraham.release();
        clahe.release();
        original.release();

        int index = 0;
        for (Augmentation augmentation : AugmentationPipeline.catalogue(size)) {
            Mat input = ImageTensor.toFloat(prepared);
            Mat output = augmentation.apply(input, SampleRandom.forSample(seed, 0, index++));
            tiles.add(new Tile(augmentation.name(), toImage(output)));
            if (output != input) {
                output.release();
            }
            input.release();
        }
        AugmentationPipeline standard = AugmentationPipeline.standardTraining(size);
        for (int sample = 0; sample < 3; sample++) {
            Mat output = standard.apply(prepared, seed, 0, sample);
            tiles.add(new Tile("default pipeline #" + (sample + 1), toImage(output)));
            output.release();
        }
        prepared.release();
        writePng(tiles, size, out, null);
        return tiles.size();
    }

    private static void writePng(List<Tile> tiles, int size, Path out, String footer) throws IOException {
        int rows = (tiles.size() + COLUMNS - 1) / COLUMNS;
        int footerHeight = footer == null ? 0 : LABEL_HEIGHT;
        BufferedImage grid = new BufferedImage(COLUMNS * size, rows * (size + LABEL_HEIGHT) + footerHeight,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(new Color(32, 32, 32));
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int i = 0; i < tiles.size(); i++) {
            int x = (i % COLUMNS) * size;
            int y = (i / COLUMNS) * (size + LABEL_HEIGHT);
            g.drawImage(tiles.get(i).image(), x, y + LABEL_HEIGHT, null);
            g.setColor(Color.WHITE);
            g.drawString(tiles.get(i).label(), x + 6, y + 16);
        }
        if (footer != null) {
            g.setColor(new Color(255, 180, 160));
            g.drawString(footer, 6, grid.getHeight() - 6);
        }
        g.dispose();
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, ".preview-", ".png");
        try {
            ImageIO.write(grid, "png", temporary.toFile());
            Files.move(temporary, out, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Converts an 8-bit or float [0, 1] RGB Mat to a BufferedImage. */
    static BufferedImage toImage(Mat rgb) {
        Mat bytes = rgb;
        if (rgb.type() != CvType.CV_8UC3) {
            bytes = new Mat();
            rgb.convertTo(bytes, CvType.CV_8UC3, 255.0);
        }
        byte[] pixels = new byte[(int) bytes.total() * 3];
        bytes.get(0, 0, pixels);
        BufferedImage image = new BufferedImage(bytes.cols(), bytes.rows(), BufferedImage.TYPE_INT_RGB);
        int[] packed = new int[bytes.cols() * bytes.rows()];
        for (int i = 0; i < packed.length; i++) {
            packed[i] = ((pixels[3 * i] & 0xFF) << 16) | ((pixels[3 * i + 1] & 0xFF) << 8) | (pixels[3 * i + 2] & 0xFF);
        }
        image.setRGB(0, 0, bytes.cols(), bytes.rows(), packed, 0, bytes.cols());
        if (bytes != rgb) {
            bytes.release();
        }
        return image;
    }

    private static BufferedImage fit(BufferedImage image, int size) {
        double scale = Math.min(size / (double) image.getWidth(), size / (double) image.getHeight());
        int w = (int) Math.round(image.getWidth() * scale);
        int h = (int) Math.round(image.getHeight() * scale);
        BufferedImage tile = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = tile.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(image, (size - w) / 2, (size - h) / 2, w, h, null);
        g.dispose();
        return tile;
    }

    private static void drawCircle(BufferedImage tile, FundusRegion region, int width, int height, int size) {
        double scale = Math.min(size / (double) width, size / (double) height);
        double offsetX = (size - width * scale) / 2;
        double offsetY = (size - height * scale) / 2;
        Graphics2D g = tile.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(80, 255, 120));
        g.setStroke(new BasicStroke(2f));
        double r = region.radius() * scale;
        double cx = offsetX + (region.centreX() + 0.5) * scale;
        double cy = offsetY + (region.centreY() + 0.5) * scale;
        g.draw(new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r));
        g.fill(new Ellipse2D.Double(cx - 3, cy - 3, 6, 6));
        g.dispose();
    }
}
