package org.retinagrade.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.display.SourceImage;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Decodes DICOM Part 10 files (and bare data sets without file meta information) with
 * PixelMed into 8-bit images, one per frame. Colour frames become RGB. Greyscale frames get
 * the modality rescale and the first VOI window of the file, or a window from the frame's
 * minimum to maximum when the file has none, and MONOCHROME1 frames are inverted.
 * Colour is converted to RGB exactly once. Native YBR_FULL data is converted from the raw
 * samples, and the output of a JPEG or JPEG 2000 decoder that already returned RGB is not
 * converted again.
 *
 * <p>Each file is checked before its pixels are read. The declared Rows, Columns, Samples
 * per Pixel, Bits Allocated and Number of Frames must be valid, and their product must fit
 * the pixel budget. For uncompressed data, the file must also contain that many bytes.
 * JPEG-LS and 12-bit JPEG Extended data are first decompressed by dcmtk, and HTJ2K data by
 * OpenJPEG (see {@link ExternalDecompressor}). Other encodings are decoded in this process. Parsing
 * runs on a thread of its own with a large stack and a time limit, so deeply nested sequences
 * or a hanging codec end as a {@link DicomDecodeException} rather than a crash.
 */
public final class DicomDecoder {

    /** Default pixel budget over all frames of one file: 250 million pixels. */
    public static final long DEFAULT_MAX_PIXELS = 250_000_000L;

    /** Default time limit for one file. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private static final long PARSER_STACK_BYTES = 64L * 1024 * 1024;

    /** Encapsulated transfer syntaxes with a decoder here (PixelMed, its JPEG lossless codec, JAI JPEG 2000). */
    private static final Set<String> DECODABLE_ENCAPSULATED = Set.of(
            "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
            "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
            "1.2.840.10008.1.2.5");

    /** One decoded object: its attributes (with the pixel data as read), transfer syntax and 8-bit frames. */
    public record Decoded(AttributeList attributes, String transferSyntax, String photometric, List<BufferedImage> frames) {

        public boolean colour() {
            return frames.get(0).getType() == BufferedImage.TYPE_3BYTE_BGR;
        }
    }

    private final long maxPixels;
    private final Duration timeout;
    private final String toolSearchPath;

    public DicomDecoder() {
        this(DEFAULT_MAX_PIXELS, DEFAULT_TIMEOUT);
    }

    public DicomDecoder(long maxPixels, Duration timeout) {
        this(maxPixels, timeout, null);
    }

    /** A decoder that looks for the external decompression tools in the folders of {@code toolSearchPath}, not the PATH. */
    DicomDecoder(long maxPixels, Duration timeout, String toolSearchPath) {
        this.toolSearchPath = toolSearchPath;
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("invalid pixel budget " + maxPixels + ": expected a positive number");
        }
        this.maxPixels = maxPixels;
        this.timeout = timeout;
        ImageReaders.registerDicomCodecs();
    }

    /** Decodes the file, or throws with a reason that names the value at fault. */
    public Decoded decode(Path file) throws DicomDecodeException {
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread worker = new Thread(null, () -> {
            try {
                outcome.set(decodeOnThisThread(file));
            } catch (StackOverflowError e) {
                outcome.set(new DicomDecodeException("sequences are nested too deeply to parse (stack exhausted)"));
            } catch (OutOfMemoryError e) {
                outcome.set(new DicomDecodeException("decoding needs more memory than this process has"));
            } catch (DicomDecodeException e) {
                outcome.set(e);
            } catch (IOException | DicomException | RuntimeException e) {
                outcome.set(new DicomDecodeException("decoding failed: " + describe(e), e));
            }
        }, "dicom-decode", PARSER_STACK_BYTES);
        worker.setDaemon(true);
        worker.start();

        // An interrupt does not stop a decode that has started, because the time limit already
        // bounds it. The caller's interrupt flag is restored afterwards.
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        while (worker.isAlive() && System.nanoTime() < deadline) {
            try {
                worker.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }

        if (worker.isAlive()) {
            worker.interrupt();
            throw new DicomDecodeException("decoding timed out after " + timeout.toSeconds() + " s and was stopped");
        }

        Object result = outcome.get();
        if (result instanceof DicomDecodeException e) {
            throw e;
        }
        return (Decoded) result;
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message.strip().replace('\n', ' ');
    }

    private Decoded decodeOnThisThread(Path file) throws IOException, DicomException, DicomDecodeException {
        long fileSize = Files.size(file);
        AttributeList header = new AttributeList();
        if (fileSize == 0) {
            throw new DicomDecodeException("empty file (0 bytes)");
        }
        String streamSyntax;
        long pixelDataOffset;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
                DicomInputStream in = new DicomInputStream(raw)) {
            streamSyntax = in.getTransferSyntaxToReadDataSet() == null ? "" : in.getTransferSyntaxToReadDataSet().getUID();
            pixelDataOffset = header.read(in, TagFromName.PixelData);
        }
        if (header.get(TagFromName.SOPClassUID) == null && header.get(TagFromName.Rows) == null
                && header.get(TagFromName.Columns) == null) {
            throw new DicomDecodeException("no SOP Class UID, Rows or Columns in " + fileSize + " bytes: not a DICOM image,"
                    + " or a file cut short");
        }
        String syntax = Attribute.getSingleStringValueOrEmptyString(header, TagFromName.TransferSyntaxUID);
        if (syntax.isEmpty()) {
            syntax = streamSyntax;
        }
        Geometry geometry = Geometry.check(header, maxPixels);
        String tool = ExternalDecompressor.toolFor(syntax, geometry.bitsStored());
        Path toolPath = tool == null ? null : ExternalDecompressor.locate(tool, toolSearchPath);
        if (tool != null && toolPath == null) {
            String samples = tool.equals("dcmdjpeg") ? " with " + geometry.bitsStored() + "-bit samples" : "";
            throw new DicomDecodeException("transfer syntax " + TransferSyntaxes.describe(syntax) + samples
                    + " has no decoder available here: install " + ExternalDecompressor.packageOf(tool) + ", whose " + tool
                    + " decompresses it (bin/setup installs it), then ingest the file again");
        }
        if (tool == null && !TransferSyntaxes.isNative(syntax) && !DECODABLE_ENCAPSULATED.contains(syntax)) {
            throw new DicomDecodeException("transfer syntax " + TransferSyntaxes.describe(syntax)
                    + " has no decoder available here");
        }
        String headerPhotometric = Attribute.getSingleStringValueOrEmptyString(header, TagFromName.PhotometricInterpretation).strip();
        boolean deflated = syntax.equals(TransferSyntaxes.DEFLATED_EXPLICIT_LITTLE);
        if (TransferSyntaxes.isNative(syntax) && !deflated && geometry.nativeBytes(headerPhotometric) > fileSize) {
            throw new DicomDecodeException("Pixel Data needs " + geometry.nativeBytes(headerPhotometric) + " bytes for " + geometry
                    + " but the file contains only " + fileSize + " bytes");
        }
        if (!TransferSyntaxes.isNative(syntax) && pixelDataTagAt(file, pixelDataOffset - 4)) {
            // The decoders would otherwise fail with internal messages, or invent blank frames for missing ones.
            ExternalDecompressor.encapsulatedFrames(file, pixelDataOffset, geometry.frames(), syntax);
        }

        AttributeList list = new AttributeList();
        String readSyntax = syntax;
        if (toolPath == null) {
            list.read(file.toFile());
        } else {
            // The whole file, pixel data included, is in memory once read, so the scratch copy goes at once.
            Path scratch = Files.createTempDirectory("retinagrade-decode");
            try {
                Path decompressed = scratch.resolve("decompressed.dcm");
                ExternalDecompressor.transcode(toolPath, file, decompressed, timeout);
                list.read(decompressed.toFile());
                readSyntax = TransferSyntaxes.EXPLICIT_LITTLE;
            } finally {
                try (java.util.stream.Stream<Path> files = Files.list(scratch)) {
                    for (Path path : files.toList()) {
                        Files.deleteIfExists(path);
                    }
                }
                Files.deleteIfExists(scratch);
            }
            headerPhotometric = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.PhotometricInterpretation).strip();
        }
        Attribute pixelData = list.get(TagFromName.PixelData);
        if (pixelData == null) {
            throw new DicomDecodeException("Pixel Data (7FE0,0010) is missing or truncated: "
                    + geometry + " declared, no complete pixel data read");
        }
        if (TransferSyntaxes.isNative(readSyntax) && pixelData.getVL() < geometry.nativeBytes(headerPhotometric)) {
            throw new DicomDecodeException("Pixel Data is truncated: " + pixelData.getVL() + " bytes where "
                    + geometry + " need " + geometry.nativeBytes(headerPhotometric));
        }
        long frameBytes = geometry.nativeBytes(headerPhotometric) / geometry.frames();
        long extraBytes = pixelData.getVL() - geometry.nativeBytes(headerPhotometric);
        // One extra byte is the padding to an even length, not a frame.
        if (TransferSyntaxes.isNative(readSyntax) && extraBytes >= frameBytes && extraBytes > 1) {
            throw new DicomDecodeException("Pixel Data contains " + pixelData.getVL() + " bytes, enough for "
                    + pixelData.getVL() / frameBytes + " frames of " + frameBytes + " bytes, but Number of Frames declares "
                    + geometry.frames() + "; correct Number of Frames (0028,0008), then ingest the file again");
        }
        SourceImage source = new SourceImage(list);
        if (source.getNumberOfBufferedImages() < geometry.frames()) {
            throw new DicomDecodeException("PixelMed decoded " + source.getNumberOfBufferedImages() + " of "
                    + geometry.frames() + " frames");
        }
        String photometric = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.PhotometricInterpretation).strip();
        VoiSettings voi = VoiSettings.of(list);
        Palette palette = photometric.equals("PALETTE COLOR") ? Palette.of(list) : null;
        List<BufferedImage> frames = new ArrayList<>(geometry.frames());
        for (int i = 0; i < geometry.frames(); i++) {
            BufferedImage decoded = source.getBufferedImage(i);
            if (decoded == null) {
                throw new DicomDecodeException("PixelMed returned no pixels for frame " + (i + 1) + " of " + geometry);
            }
            if (photometric.equals("PALETTE COLOR")) {
                frames.add(palette.apply(decoded));
            } else if (source.isGrayscale()) {
                frames.add(toGray8(decoded, voi, photometric.equals("MONOCHROME1")));
            } else {
                frames.add(toRgb8(decoded, source.isYBR(), geometry.bitsStored()));
            }
        }
        return new Decoded(list, syntax, photometric, List.copyOf(frames));
    }

    /** Returns true when the file has the Pixel Data tag (7FE0,0010), little endian, at the position. */
    private static boolean pixelDataTagAt(Path file, long position) throws IOException {
        if (position < 0) {
            return false;
        }
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer tag = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int read = 0;
            while (tag.hasRemaining() && read >= 0) {
                read = channel.read(tag, position + tag.position());
            }
            return !tag.hasRemaining() && tag.getShort(0) == (short) 0x7FE0 && tag.getShort(2) == (short) 0x0010;
        }
    }

    /** The pixel geometry declared by a data set, checked before any pixels are read. */
    record Geometry(int rows, int columns, int samples, int bitsAllocated, int bitsStored, int frames) {

        static Geometry check(AttributeList list, long maxPixels) throws DicomDecodeException {
            if (list.get(TagFromName.Rows) == null && list.get(TagFromName.Columns) == null) {
                throw new DicomDecodeException("no Rows and Columns: not an image (SOP Class "
                        + orNone(Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPClassUID)) + ")");
            }

            int rows = positive(list, TagFromName.Rows, "Rows");
            int columns = positive(list, TagFromName.Columns, "Columns");
            String framesText = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.NumberOfFrames).strip();
            int frames;
            try {
                frames = framesText.isEmpty() ? 1 : Integer.parseInt(framesText);
            } catch (NumberFormatException e) {
                throw new DicomDecodeException("invalid Number of Frames '" + framesText + "': expected a whole number");
            }
            if (frames < 1) {
                throw new DicomDecodeException("invalid Number of Frames " + frames + ": expected at least 1");
            }

            int samples = list.get(TagFromName.SamplesPerPixel) == null ? 1 : positive(list, TagFromName.SamplesPerPixel, "Samples per Pixel");
            if (samples != 1 && samples != 3) {
                throw new DicomDecodeException("Samples per Pixel " + samples + " is not supported: expected 1 or 3");
            }
            int bitsAllocated = positive(list, TagFromName.BitsAllocated, "Bits Allocated");
            if (bitsAllocated != 8 && bitsAllocated != 16) {
                throw new DicomDecodeException("Bits Allocated " + bitsAllocated + " is not supported: expected 8 or 16");
            }
            int bitsStored = list.get(TagFromName.BitsStored) == null ? bitsAllocated : positive(list, TagFromName.BitsStored, "Bits Stored");

            long pixels = (long) rows * columns * frames;
            if (pixels > maxPixels) {
                throw new DicomDecodeException(rows + " Rows x " + columns + " Columns x " + frames + " frames = "
                        + pixels + " pixels exceeds the budget of " + maxPixels + " pixels per file");
            }
            return new Geometry(rows, columns, samples, bitsAllocated, bitsStored, frames);
        }

        long nativeBytes() {
            return (long) rows * columns * samples * (bitsAllocated / 8) * frames;
        }

        /** Bytes of uncompressed pixel data; YBR_FULL_422 stores two samples per pixel. */
        long nativeBytes(String photometric) {
            return photometric.equals("YBR_FULL_422") ? nativeBytes() * 2 / 3 : nativeBytes();
        }

        @Override
        public String toString() {
            return rows + "x" + columns + (samples == 3 ? "x3" : "") + " at " + bitsAllocated + " bits, "
                    + frames + (frames == 1 ? " frame" : " frames");
        }

        private static int positive(AttributeList list, com.pixelmed.dicom.AttributeTag tag, String name)
                throws DicomDecodeException {
            String text = Attribute.getSingleStringValueOrEmptyString(list, tag).strip();
            int value;
            try {
                value = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw new DicomDecodeException("invalid " + name + " '" + text + "': expected a positive whole number");
            }
            if (value <= 0) {
                throw new DicomDecodeException("invalid " + name + " " + value + ": expected a positive whole number");
            }
            return value;
        }

        private static String orNone(String value) {
            return value.isEmpty() ? "none" : value;
        }
    }

    /** Modality rescale and the first VOI window of a data set. */
    record VoiSettings(double slope, double intercept, double center, double width) {

        static VoiSettings of(AttributeList list) {
            double slope = Attribute.getSingleDoubleValueOrDefault(list, TagFromName.RescaleSlope, 1.0);
            double intercept = Attribute.getSingleDoubleValueOrDefault(list, TagFromName.RescaleIntercept, 0.0);
            double[] centers = Attribute.getDoubleValues(list, TagFromName.WindowCenter);
            double[] widths = Attribute.getDoubleValues(list, TagFromName.WindowWidth);
            boolean windowed = centers != null && widths != null && centers.length > 0 && widths.length > 0 && widths[0] >= 1;
            return new VoiSettings(slope == 0 ? 1.0 : slope, intercept,
                    windowed ? centers[0] : Double.NaN, windowed ? widths[0] : Double.NaN);
        }

        boolean windowed() {
            return !Double.isNaN(width);
        }
    }

    /** A PALETTE COLOR lookup table (PS3.3 C.7.6.3.1.5), scaled to 8 bits per channel. */
    record Palette(int entries, int firstMapped, int[] red, int[] green, int[] blue) {

        static Palette of(AttributeList list) throws DicomDecodeException {
            int[] descriptor = descriptor(list, TagFromName.RedPaletteColorLookupTableDescriptor);
            int entries = descriptor[0] == 0 ? 65536 : descriptor[0];
            int bits = descriptor[2];
            return new Palette(entries, descriptor[1],
                    table(list, TagFromName.RedPaletteColorLookupTableData, entries, bits, "Red"),
                    table(list, TagFromName.GreenPaletteColorLookupTableData, entries, bits, "Green"),
                    table(list, TagFromName.BluePaletteColorLookupTableData, entries, bits, "Blue"));
        }

        private static int[] descriptor(AttributeList list, com.pixelmed.dicom.AttributeTag tag) throws DicomDecodeException {
            int[] values = Attribute.getIntegerValues(list, tag);
            if (values == null || values.length != 3 || (values[2] != 8 && values[2] != 16)) {
                throw new DicomDecodeException("invalid Red Palette Color Lookup Table Descriptor: expected entries, "
                        + "first value mapped and 8 or 16 bits");
            }
            return new int[] {values[0] & 0xffff, values[1], values[2]};
        }

        private static int[] table(AttributeList list, com.pixelmed.dicom.AttributeTag tag, int entries, int bits, String colour)
                throws DicomDecodeException {
            short[] words;
            try {
                Attribute attribute = list.get(tag);
                words = attribute == null ? null : attribute.getShortValues();
            } catch (DicomException e) {
                throw new DicomDecodeException("unreadable " + colour + " Palette Color Lookup Table Data: " + e.getMessage(), e);
            }
            if (words == null) {
                throw new DicomDecodeException("no " + colour + " Palette Color Lookup Table Data (segmented palettes are not supported)");
            }
            int[] table = new int[entries];
            if (bits == 16) {
                if (words.length < entries) {
                    throw new DicomDecodeException(colour + " palette contains " + words.length + " of " + entries + " entries");
                }
                for (int i = 0; i < entries; i++) {
                    table[i] = (words[i] & 0xffff) >> 8;
                }
            } else if (words.length >= entries) {
                for (int i = 0; i < entries; i++) {
                    table[i] = words[i] & 0xff;
                }
            } else if (words.length * 2 >= entries) {
                for (int i = 0; i < entries; i++) {
                    table[i] = (words[i / 2] >> (8 * (i % 2))) & 0xff;
                }
            } else {
                throw new DicomDecodeException(colour + " palette contains " + words.length * 2 + " of " + entries + " entries");
            }
            return table;
        }

        BufferedImage apply(BufferedImage indices) {
            int width = indices.getWidth();
            int height = indices.getHeight();
            int[] samples = indices.getRaster().getSamples(0, 0, width, height, 0, (int[]) null);
            BufferedImage rgb = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
            byte[] out = ((java.awt.image.DataBufferByte) rgb.getRaster().getDataBuffer()).getData();
            for (int i = 0; i < samples.length; i++) {
                int index = Math.max(0, Math.min(entries - 1, samples[i] - firstMapped));
                out[3 * i] = (byte) blue[index];
                out[3 * i + 1] = (byte) green[index];
                out[3 * i + 2] = (byte) red[index];
            }
            return rgb;
        }
    }

    /** Applies the modality rescale and VOI window (PS3.3 C.11.2.1.2.1, linear) and writes 8 bits per pixel. */
    static BufferedImage toGray8(BufferedImage decoded, VoiSettings voi, boolean inverted) {
        int width = decoded.getWidth();
        int height = decoded.getHeight();
        int[] samples = decoded.getRaster().getSamples(0, 0, width, height, 0, (int[]) null);
        double[] values = new double[samples.length];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < samples.length; i++) {
            double value = samples[i] * voi.slope() + voi.intercept();
            values[i] = value;
            min = Math.min(min, value);
            max = Math.max(max, value);
        }

        double center;
        double windowWidth;
        if (voi.windowed()) {
            center = voi.center();
            windowWidth = voi.width();
        } else {
            // Minimum to maximum: the window whose linear function maps min to 0 and max to 255.
            center = (min + max) / 2.0 + 0.5;
            windowWidth = max - min + 1.0;
        }

        BufferedImage gray = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] out = ((java.awt.image.DataBufferByte) gray.getRaster().getDataBuffer()).getData();
        double low = center - 0.5 - (windowWidth - 1) / 2.0;
        double high = center - 0.5 + (windowWidth - 1) / 2.0;
        for (int i = 0; i < values.length; i++) {
            double x = values[i];
            double y;
            if (x <= low) {
                y = 0;
            } else if (x > high) {
                y = 255;
            } else {
                y = windowWidth <= 1 ? 255 : ((x - (center - 0.5)) / (windowWidth - 1) + 0.5) * 255.0;
            }
            int level = (int) Math.floor(Math.max(0, Math.min(255, y)));
            out[i] = (byte) (inverted ? 255 - level : level);
        }
        return gray;
    }

    /**
     * Converts a decoded frame to 8-bit RGB. Samples of native YBR_FULL data, which PixelMed
     * reports as YBR, are converted with the PS3.3 C.7.6.3.1.2 equations. Palette images go
     * through their colour model. RGB samples are copied and shifted down to 8 bits when
     * stored wider.
     */
    static BufferedImage toRgb8(BufferedImage decoded, boolean ybr, int bitsStored) {
        int width = decoded.getWidth();
        int height = decoded.getHeight();
        BufferedImage rgb = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] out = ((java.awt.image.DataBufferByte) rgb.getRaster().getDataBuffer()).getData();
        Raster raster = decoded.getRaster();

        if (raster.getNumBands() < 3) {
            int[] argb = decoded.getRGB(0, 0, width, height, null, 0, width);
            for (int i = 0; i < argb.length; i++) {
                out[3 * i] = (byte) argb[i];
                out[3 * i + 1] = (byte) (argb[i] >> 8);
                out[3 * i + 2] = (byte) (argb[i] >> 16);
            }
            return rgb;
        }

        if (!ybr && copyByteSamples(raster, width, height, out)) {
            return rgb;
        }

        int shift = Math.max(0, bitsStored - 8);
        int[] r = raster.getSamples(0, 0, width, height, 0, (int[]) null);
        int[] g = raster.getSamples(0, 0, width, height, 1, (int[]) null);
        int[] b = raster.getSamples(0, 0, width, height, 2, (int[]) null);
        for (int i = 0; i < r.length; i++) {
            int red = r[i] >> shift;
            int green = g[i] >> shift;
            int blue = b[i] >> shift;
            if (ybr) {
                double y = red;
                double cb = green - 128.0;
                double cr = blue - 128.0;
                red = clamp(y + 1.402 * cr);
                green = clamp(y - 0.344136 * cb - 0.714136 * cr);
                blue = clamp(y + 1.772 * cb);
            }
            out[3 * i] = (byte) blue;
            out[3 * i + 1] = (byte) green;
            out[3 * i + 2] = (byte) red;
        }
        return rgb;
    }

    /**
     * Copies 8-bit RGB samples of one data bank straight into BGR order, for pixel- and
     * band-interleaved rasters alike. Returns false for other layouts, which take the general path.
     */
    private static boolean copyByteSamples(Raster raster, int width, int height, byte[] out) {
        if (!(raster.getDataBuffer() instanceof java.awt.image.DataBufferByte buffer)
                || !(raster.getSampleModel() instanceof java.awt.image.ComponentSampleModel model)
                || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0
                || buffer.getNumBanks() != 1) {
            return false;
        }
        byte[] data = buffer.getData();
        int pixelStride = model.getPixelStride();
        int lineStride = model.getScanlineStride();
        int[] offsets = model.getBandOffsets();
        int base = buffer.getOffset();
        int target = 0;
        for (int y = 0; y < height; y++) {
            int row = base + y * lineStride;
            for (int x = 0; x < width; x++) {
                int pixel = row + x * pixelStride;
                out[target++] = data[pixel + offsets[2]];
                out[target++] = data[pixel + offsets[1]];
                out[target++] = data[pixel + offsets[0]];
            }
        }
        return true;
    }

    private static int clamp(double value) {
        return (int) Math.max(0, Math.min(255, Math.round(value)));
    }
}
