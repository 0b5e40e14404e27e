package org.retinagrade.report;

import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders the self-contained HTML report: inline CSS, charts and thumbnails as data URIs, no scripts. */
final class HtmlReport {

    private HtmlReport() {
    }

    static String render(ReportData data, ReportService.Rendered rendered) {
        StringBuilder html = new StringBuilder();
        Object evaluation = data.provenance().get("evaluation");
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>RetinaGrade report: run ").append(data.runId()).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222}")
                .append("table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:4px 8px;")
                .append("text-align:left;vertical-align:top;font-size:14px}th{background:#eef2f7}")
                .append("img.chart{max-width:100%;border:1px solid #ddd;margin:0.5em 0}")
                .append(".cases{display:flex;flex-wrap:wrap;gap:12px}.case{width:210px;font-size:13px}")
                .append(".note{color:#555;font-size:13px}\n</style>\n</head>\n<body>\n");
        html.append("<h1>RetinaGrade report: run ").append(data.runId()).append("</h1>\n");
        html.append("<p>Training status: ").append(escape(data.status())).append(". Evaluation: ")
                .append(escape(ReportTables.readable(evaluation))).append(". ").append(data.predictions().size())
                .append(" images. Grades follow the international clinical DR scale; referable DR is grade 2 or above,"
                        + " scored by the summed probability of grades 2-4.</p>\n");

        section(html, "Headline metrics");
        table(html, ReportTables.headline(data.overall()));
        section(html, "Referable DR operating points");
        table(html, ReportTables.operatingPoints(data.overall()));
        image(html, rendered.roc(), "ROC curve of referable DR with the operating points");
        section(html, "Per-grade metrics");
        table(html, ReportTables.perGrade(data.overall()));
        image(html, rendered.perGrade(), "precision, recall and F1 per grade");
        section(html, "Confusion matrix");
        html.append("<p class=\"note\">Rows are reference grades, columns predicted grades.</p>\n");
        image(html, rendered.confusion(), "confusion matrix heatmap");
        section(html, "Calibration");
        image(html, rendered.reliability(), "reliability diagram");
        section(html, "Training curves");
        image(html, rendered.training(), "training and validation loss and validation kappa per epoch");
        section(html, "Subgroups");
        table(html, ReportTables.subgroups(data.metrics()));
        section(html, "Worst misclassifications");
        html.append("<div class=\"cases\">\n");
        for (int i = 0; i < rendered.worst().size(); i++) {
            ReportData.PredictionRow row = rendered.worst().get(i);
            byte[] thumbnail = rendered.worstThumbnails().get(i);
            html.append("<div class=\"case\">");
            if (thumbnail != null) {
                html.append("<img alt=\"").append(escape(row.imageName())).append("\" src=\"data:image/jpeg;base64,")
                        .append(Base64.getEncoder().encodeToString(thumbnail)).append("\"><br>");
            }
            html.append(escape(row.imageName())).append(": reference ").append(row.trueGrade()).append(", predicted ")
                    .append(row.predictedGrade()).append(String.format(Locale.ROOT, " (p = %.2f)",
                            row.probabilities()[row.predictedGrade()])).append("</div>\n");
        }
        if (rendered.worst().isEmpty()) {
            html.append("<p>No misclassified images.</p>\n");
        }
        html.append("</div>\n");
        section(html, "Provenance");
        table(html, ReportTables.provenance(data.provenance(), data.seed()));
        if (data.protocolText() != null) {
            section(html, "Protocol");
            html.append("<pre>").append(escape(data.protocolText())).append("</pre>\n");
        }
        section(html, "Reporting checklist (CLAIM 2024, TRIPOD+AI)");
        table(html, ReportTables.checklist());
        html.append("<p class=\"note\">Written by RetinaGrade. Files beside this one: report.pdf, metrics.json,"
                + " predictions.csv.</p>\n</body>\n</html>\n");
        return html.toString();
    }

    private static void section(StringBuilder html, String title) {
        html.append("<h2>").append(escape(title)).append("</h2>\n");
    }

    private static void table(StringBuilder html, List<String[]> rows) {
        html.append("<table>\n");
        for (int r = 0; r < rows.size(); r++) {
            html.append("<tr>");
            for (String cell : rows.get(r)) {
                String tag = r == 0 ? "th" : "td";
                html.append('<').append(tag).append('>').append(escape(cell)).append("</").append(tag).append('>');
            }
            html.append("</tr>\n");
        }
        html.append("</table>\n");
    }

    private static void image(StringBuilder html, byte[] png, String alt) {
        html.append("<img class=\"chart\" alt=\"").append(escape(alt)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">\n");
    }

    static String escape(String text) {
        if (text == null) {
            return "";
        }
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static String describe(Map<String, Object> map) {
        return String.valueOf(map);
    }
}
