package io.pagedkv.examples.llama;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.File;
import java.io.IOException;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws per-token NLL over position (a trailing mean over {@code smooth} tokens) as a PNG, one panel
 * per budget, one line per curve, the model's context marked: StreamingLLM's figure of log
 * perplexity over input length. Headless JFreeChart. Stateless.
 */
public final class StreamingChart {

    /**
     * A line of the chart.
     *
     * @param label the legend text
     * @param panel which panel it goes in (0-based)
     * @param nll per-token NLL, NaN where undefined
     * @param color its color
     * @param dashed whether it is drawn dashed
     */
    public record Line(String label, int panel, double[] nll, Color color, boolean dashed) {
    }

    /** A point every this many positions (the lines are trailing means: nothing narrower is lost). */
    private static final int STRIDE = 16;

    private StreamingChart() {
    }

    /**
     * Writes a {@code width x height} PNG of {@code lines} in {@code panels} panels titled {@code panelTitles}.
     *
     * @throws IOException if the file cannot be written
     */
    public static void write(String title, List<String> panelTitles, List<Line> lines, int smooth, int context, File file,
            int width, int height) throws IOException {
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("position in the stream (tokens)"));
        plot.setGap(12);
        java.util.Set<String> legend = new java.util.HashSet<>();
        for (int p = 0; p < panelTitles.size(); p++) {
            XYSeriesCollection data = new XYSeriesCollection();
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
            int i = 0;
            for (Line line : lines) {
                if (line.panel() != p) {
                    continue;
                }
                data.addSeries(series(line, smooth));
                r.setSeriesPaint(i, line.color());
                r.setSeriesStroke(i, line.dashed()
                        ? new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                        : new BasicStroke(1.4f));
                r.setSeriesVisibleInLegend(i, legend.add(line.label())); // a line drawn in every panel is named once
                i++;
            }
            NumberAxis y = new NumberAxis(panelTitles.get(p) + ": NLL (nats/token)");
            y.setAutoRangeIncludesZero(false);
            y.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            XYPlot sub = new XYPlot(data, null, y, r);
            ValueMarker ctx = new ValueMarker(context, Color.GRAY, new BasicStroke(1f));
            ctx.setLabel("context " + context);
            sub.addDomainMarker(ctx, Layer.BACKGROUND);
            sub.setBackgroundPaint(Color.WHITE);
            sub.setDomainGridlinePaint(new Color(0xdddddd));
            sub.setRangeGridlinePaint(new Color(0xdddddd));
            plot.add(sub, 1);
        }
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 14), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(false); // 25 noisy lines: anti-aliased, the PNG is 4 times larger for little gain
        chart.setTextAntiAlias(true);
        ChartUtils.saveChartAsPNG(file, chart, width, height);
    }

    /** The trailing mean of {@code smooth} defined values at each position from {@code smooth} on (and the running mean before). */
    private static XYSeries series(Line line, int smooth) {
        XYSeries s = new XYSeries(line.label(), false, true);
        double[] v = line.nll();
        double sum = 0;
        int n = 0;
        for (int t = 0; t < v.length; t++) {
            if (!Double.isNaN(v[t])) {
                sum += v[t];
                n++;
            }
            int drop = t - smooth;
            if (drop >= 0 && !Double.isNaN(v[drop])) {
                sum -= v[drop];
                n--;
            }
            if (n > 0 && (t % STRIDE == 0 || t == v.length - 1)) {
                s.add(t, sum / n);
            }
        }
        return s;
    }
}
