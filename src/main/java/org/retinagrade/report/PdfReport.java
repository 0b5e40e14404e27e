package org.retinagrade.report;

import com.lowagie.text.Document;
import com.lowagie.text.DocumentException;
import com.lowagie.text.Element;
import com.lowagie.text.Font;
import com.lowagie.text.FontFactory;
import com.lowagie.text.Image;
import com.lowagie.text.PageSize;
import com.lowagie.text.Paragraph;
import com.lowagie.text.Phrase;
import com.lowagie.text.pdf.PdfPCell;
import com.lowagie.text.pdf.PdfPTable;
import com.lowagie.text.pdf.PdfWriter;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/** Renders the PDF report with OpenPDF: the same sections, tables and charts as the HTML report. */
final class PdfReport {

    private static final Font TITLE = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 16);
    private static final Font HEADING = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 12);
    private static final Font BODY = FontFactory.getFont(FontFactory.HELVETICA, 8.5f);
    private static final Font HEADER_CELL = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 8.5f);

    private PdfReport() {
    }

    static byte[] render(ReportData data, ReportService.Rendered rendered) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Document document = new Document(PageSize.A4, 36, 36, 36, 36);
        try {
            PdfWriter.getInstance(document, out);
            document.addTitle("RetinaGrade report: run " + data.runId());
            document.open();
            document.add(new Paragraph("RetinaGrade report: run " + data.runId(), TITLE));
            document.add(new Paragraph("Training status: " + data.status() + ". Evaluation: "
                    + ReportTables.readable(data.provenance().get("evaluation")) + ". " + data.predictions().size()
                    + " images. Grades follow the international clinical DR scale; referable DR is grade 2 or above, scored by"
                    + " the summed probability of grades 2-4.", BODY));

            heading(document, "Headline metrics");
            table(document, ReportTables.headline(data.overall()), new float[] {3, 2, 3, 6});
            heading(document, "Referable DR operating points");
            table(document, ReportTables.operatingPoints(data.overall()), new float[] {3, 2, 3, 3, 3, 3});
            chart(document, rendered.roc(), 380);

            document.newPage();
            heading(document, "Per-grade metrics");
            table(document, ReportTables.perGrade(data.overall()), new float[] {3, 2, 2, 2, 2});
            chart(document, rendered.perGrade(), 360);
            heading(document, "Confusion matrix (rows reference, columns predicted)");
            chart(document, rendered.confusion(), 300);

            document.newPage();
            heading(document, "Calibration");
            chart(document, rendered.reliability(), 360);
            heading(document, "Training curves");
            chart(document, rendered.training(), 360);

            document.newPage();
            heading(document, "Subgroups");
            table(document, ReportTables.subgroups(data.metrics()), new float[] {3, 1, 3, 3, 3});
            heading(document, "Worst misclassifications");
            PdfPTable cases = new PdfPTable(4);
            cases.setWidthPercentage(100);
            for (int i = 0; i < rendered.worst().size(); i++) {
                ReportData.PredictionRow row = rendered.worst().get(i);
                PdfPCell cell = new PdfPCell();
                cell.setBorderColor(Color.LIGHT_GRAY);
                byte[] thumbnail = rendered.worstThumbnails().get(i);
                if (thumbnail != null) {
                    Image image = Image.getInstance(thumbnail);
                    image.scaleToFit(120, 120);
                    cell.addElement(image);
                }
                cell.addElement(new Phrase(String.format(Locale.ROOT, "%s: reference %d, predicted %d (p = %.2f)",
                        row.imageName(), row.trueGrade(), row.predictedGrade(), row.probabilities()[row.predictedGrade()]), BODY));
                cases.addCell(cell);
            }
            cases.completeRow();
            if (!rendered.worst().isEmpty()) {
                document.add(cases);
            } else {
                document.add(new Paragraph("No misclassified images.", BODY));
            }

            document.newPage();
            heading(document, "Provenance");
            table(document, ReportTables.provenance(data.provenance(), data.seed()), new float[] {2, 7});
            if (data.protocolText() != null) {
                heading(document, "Protocol");
                document.add(new Paragraph(data.protocolText(), FontFactory.getFont(FontFactory.COURIER, 7.5f)));
            }
            heading(document, "Reporting checklist (CLAIM 2024, TRIPOD+AI)");
            table(document, ReportTables.checklist(), new float[] {4, 3, 5});
        } catch (DocumentException e) {
            throw new IOException("PDF report cannot be written: " + e.getMessage(), e);
        } finally {
            if (document.isOpen()) {
                document.close();
            }
        }
        return out.toByteArray();
    }

    private static void heading(Document document, String text) throws DocumentException {
        Paragraph paragraph = new Paragraph(text, HEADING);
        paragraph.setSpacingBefore(10);
        paragraph.setSpacingAfter(4);
        document.add(paragraph);
    }

    private static void table(Document document, List<String[]> rows, float[] widths) throws DocumentException {
        PdfPTable table = new PdfPTable(widths);
        table.setWidthPercentage(100);
        for (int r = 0; r < rows.size(); r++) {
            for (String cell : rows.get(r)) {
                PdfPCell pdfCell = new PdfPCell(new Phrase(cell == null ? "" : cell, r == 0 ? HEADER_CELL : BODY));
                if (r == 0) {
                    pdfCell.setBackgroundColor(new Color(238, 242, 247));
                }
                pdfCell.setBorderColor(Color.GRAY);
                table.addCell(pdfCell);
            }
        }
        document.add(table);
    }

    private static void chart(Document document, byte[] png, float width) throws IOException, DocumentException {
        Image image = Image.getInstance(png);
        image.scaleToFit(width, width);
        image.setAlignment(Element.ALIGN_CENTER);
        document.add(image);
    }
}
