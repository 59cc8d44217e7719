//! Content flowed onto pages: full-width paragraphs, headings kept with what follows,
//! and bordered tables whose rows move to the next page (or, when taller than a page,
//! split between lines) with the header row repeated. The result is a list of drawing
//! ops per page; the running header and footer are added last, once the page count
//! is known.

use serde_json::Value;

use super::labels::{dash, text_at};
use super::text::{Line, Shaper};
use super::{
    Align, BLACK, BOTTOM, CONTENT_W, FIRST_TOP, FOOTNOTE, GREY, HEADING, LEADING, LEFT, NOTE,
    PAD_X, PAD_Y, PAGE_H, RIGHT, RULE, Rgb, SHADE, SMALL, Style, TOP,
};

/// Something to draw, in page coordinates.
pub(super) enum Op {
    Text {
        x: f32,
        baseline: f32,
        line: Line,
    },
    /// Filled rectangles (x, y, w, h) as one path, so that touching ones show no seams.
    Rects {
        rects: Vec<[f32; 4]>,
        color: Rgb,
    },
    /// Straight segments (x0, y0, x1, y1).
    Lines {
        segs: Vec<[f32; 4]>,
        width: f32,
        color: Rgb,
    },
}

pub(super) fn rect_outline(x: f32, y: f32, w: f32, h: f32) -> Vec<[f32; 4]> {
    vec![
        [x, y, x + w, y],
        [x + w, y, x + w, y + h],
        [x + w, y + h, x, y + h],
        [x, y + h, x, y],
    ]
}

/// Content laid out page by page; the page decorations come last, when the number of
/// pages is known.
pub(super) struct Flow<'s, 'f> {
    pub(super) shaper: &'s Shaper<'f>,
    pub(super) pages: Vec<Vec<Op>>,
    pub(super) y: f32,
    /// Nothing drawn on this page yet: moving on would not make more room.
    fresh: bool,
}

/// A table cell before layout: paragraphs, each in its own style.
pub(super) struct Cell {
    paras: Vec<(String, Style)>,
    align: Align,
    /// Centre vertically (form labels); otherwise top-aligned.
    middle: bool,
    fill: Option<Rgb>,
}

pub(super) fn cell(paras: Vec<(String, Style)>) -> Cell {
    Cell {
        paras,
        align: Align::Left,
        middle: false,
        fill: None,
    }
}

pub(super) fn text_cell(text: impl Into<String>, style: Style) -> Cell {
    cell(vec![(text.into(), style)])
}

pub(super) fn centered_cell(text: impl Into<String>, style: Style) -> Cell {
    Cell {
        align: Align::Center,
        ..text_cell(text, style)
    }
}

pub(super) fn label_cell(text: &str, style: Style) -> Cell {
    Cell {
        paras: vec![(text.to_owned(), style)],
        align: Align::Center,
        middle: true,
        fill: Some(SHADE),
    }
}

struct CellLayout {
    lines: Vec<Line>,
    align: Align,
    middle: bool,
    fill: Option<Rgb>,
}

impl CellLayout {
    fn content_height(&self) -> f32 {
        self.lines.iter().map(Line::height).sum()
    }
}

struct RowLayout {
    cells: Vec<CellLayout>,
    height: f32,
}

impl RowLayout {
    fn new(cells: Vec<CellLayout>) -> Self {
        let content = cells
            .iter()
            .map(CellLayout::content_height)
            .fold(0.0, f32::max);
        Self {
            cells,
            height: content + 2.0 * PAD_Y,
        }
    }

    /// The part of the row that fits in `avail`, and the rest; `None` if not even one
    /// line fits.
    fn split(&self, avail: f32) -> Option<(RowLayout, RowLayout)> {
        let limit = avail - 2.0 * PAD_Y;
        let mut first = Vec::new();
        let mut rest = Vec::new();
        let mut any = false;
        for c in &self.cells {
            let mut used = 0.0;
            let mut take = 0;
            while take < c.lines.len() && used + c.lines[take].height() <= limit {
                used += c.lines[take].height();
                take += 1;
            }
            any |= take > 0;
            let (head, tail) = c.lines.split_at(take);
            first.push(CellLayout {
                lines: head.to_vec(),
                align: c.align,
                middle: false,
                fill: c.fill,
            });
            rest.push(CellLayout {
                lines: tail.to_vec(),
                align: c.align,
                middle: false,
                fill: c.fill,
            });
        }
        any.then(|| (RowLayout::new(first), RowLayout::new(rest)))
    }
}

impl<'s, 'f> Flow<'s, 'f> {
    pub(super) fn new(shaper: &'s Shaper<'f>) -> Self {
        Self {
            shaper,
            pages: vec![Vec::new()],
            y: FIRST_TOP,
            fresh: true,
        }
    }

    fn room(&self) -> f32 {
        BOTTOM - self.y
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        self.fresh = true;
    }

    /// Starts a new page unless `height` fits on this one (or this one is empty).
    pub(super) fn ensure(&mut self, height: f32) {
        if height > self.room() && !self.fresh {
            self.new_page();
        }
    }

    pub(super) fn push(&mut self, op: Op) {
        self.fresh = false;
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    pub(super) fn gap(&mut self, h: f32) {
        self.y = (self.y + h).min(BOTTOM);
    }

    pub(super) fn text_at(&mut self, line: Line, x: f32, top: f32) {
        if line.glyphs.is_empty() {
            return;
        }
        // Centres the CJK ideographic box (about -0.12 to 0.88 em) in the line.
        let baseline = top + line.height() / 2.0 + 0.38 * line.style.size;
        self.push(Op::Text { x, baseline, line });
    }

    fn aligned(&mut self, line: Line, align: Align, x: f32, width: f32, top: f32) {
        let x = align.start(x, width, line.width);
        self.text_at(line, x, top);
    }

    /// Full-width text, flowing line by line.
    pub(super) fn paragraph(&mut self, text: &str, style: Style, align: Align) {
        for line in self.shaper.wrap(text, style, CONTENT_W) {
            let h = line.height();
            self.ensure(h);
            let top = self.y;
            self.aligned(line, align, LEFT, CONTENT_W, top);
            self.y += h;
        }
    }

    /// A section heading, kept with the start of what follows.
    pub(super) fn heading(&mut self, text: &str) {
        let h = HEADING.size * LEADING;
        self.ensure(h + 60.0);
        self.gap(8.0);
        self.paragraph(text, HEADING, Align::Left);
        self.gap(3.0);
    }

    fn layout_row(&self, widths: &[f32], cells: Vec<Cell>) -> RowLayout {
        let cells = widths
            .iter()
            .zip(cells)
            .map(|(&w, c)| CellLayout {
                lines: c
                    .paras
                    .iter()
                    .flat_map(|(t, s)| self.shaper.wrap(t, *s, w - 2.0 * PAD_X))
                    .collect(),
                align: c.align,
                middle: c.middle,
                fill: c.fill,
            })
            .collect();
        RowLayout::new(cells)
    }

    fn draw_row(&mut self, widths: &[f32], row: &RowLayout) {
        let top = self.y;
        let mut fills = Vec::new();
        let mut borders = Vec::new();
        let mut x = LEFT;
        for (&w, c) in widths.iter().zip(&row.cells) {
            if c.fill.is_some() {
                fills.push([x, top, w, row.height]);
            }
            borders.extend(rect_outline(x, top, w, row.height));
            x += w;
        }
        if !fills.is_empty() {
            self.push(Op::Rects {
                rects: fills,
                color: SHADE,
            });
        }
        let mut x = LEFT;
        for (&w, c) in widths.iter().zip(&row.cells) {
            let slack = row.height - 2.0 * PAD_Y - c.content_height();
            let mut line_top = top + PAD_Y + if c.middle { slack / 2.0 } else { 0.0 };
            for line in &c.lines {
                let h = line.height();
                self.aligned(line.clone(), c.align, x + PAD_X, w - 2.0 * PAD_X, line_top);
                line_top += h;
            }
            x += w;
        }
        self.push(Op::Lines {
            segs: borders,
            width: 0.5,
            color: RULE,
        });
        self.y += row.height;
    }

    /// A bordered table whose rows flow onto new pages, the header row repeated on
    /// each; a row taller than a page is split between lines.
    pub(super) fn table(
        &mut self,
        widths: &[f32],
        header: Option<Vec<Cell>>,
        rows: Vec<Vec<Cell>>,
    ) {
        let header = header.map(|h| self.layout_row(widths, h));
        let header_h = header.as_ref().map_or(0.0, |h| h.height);
        let table_w: f32 = widths.iter().sum();
        let mut segment_top: Option<f32> = None;
        let close = |flow: &mut Self, top: &mut Option<f32>| {
            if let Some(t) = top.take() {
                let h = flow.y - t;
                flow.push(Op::Lines {
                    segs: rect_outline(LEFT, t, table_w, h),
                    width: 1.0,
                    color: BLACK,
                });
            }
        };
        for cells in rows {
            let mut row = self.layout_row(widths, cells);
            loop {
                let head = if segment_top.is_none() { header_h } else { 0.0 };
                let open = |flow: &mut Self, top: &mut Option<f32>| {
                    if top.is_none() {
                        *top = Some(flow.y);
                        if let Some(h) = &header {
                            flow.draw_row(widths, h);
                        }
                    }
                };
                if head + row.height <= self.room() {
                    open(self, &mut segment_top);
                    self.draw_row(widths, &row);
                    break;
                }
                let fits_a_page = header_h + row.height <= BOTTOM - TOP;
                if (fits_a_page || self.room() - head < 40.0) && !self.fresh {
                    close(self, &mut segment_top);
                    self.new_page();
                    continue;
                }
                match row.split(self.room() - head) {
                    Some((first, rest)) => {
                        open(self, &mut segment_top);
                        self.draw_row(widths, &first);
                        close(self, &mut segment_top);
                        self.new_page();
                        row = rest;
                    }
                    None => {
                        // Not even one line fits on an empty page: cannot happen with
                        // our sizes, but never loop for it.
                        open(self, &mut segment_top);
                        self.draw_row(widths, &row);
                        break;
                    }
                }
            }
        }
        close(self, &mut segment_top);
    }

    /// Running header, footer and page numbers, once the page count is known.
    pub(super) fn finish(mut self, cert: &Value) -> Vec<Vec<Op>> {
        let total = self.pages.len();
        let service_id = text_at(cert, "/service_id").unwrap_or_else(dash);
        let code = text_at(cert, "/verification_code").unwrap_or_else(dash);
        let court = text_at(cert, "/court/name").unwrap_or_default();
        let case_number = text_at(cert, "/case/case_number").unwrap_or_else(dash);
        let sh = self.shaper;
        for (i, page) in self.pages.iter_mut().enumerate() {
            let mut put = |line: Line, align: Align, x: f32, w: f32, baseline: f32| {
                let x = align.start(x, w, line.width);
                if !line.glyphs.is_empty() {
                    page.push(Op::Text { x, baseline, line });
                }
            };
            let footer_rule = PAGE_H - 52.0;
            put(
                sh.line(&format!("第 {} 页 / 共 {total} 页", i + 1), SMALL),
                Align::Center,
                LEFT,
                CONTENT_W,
                PAGE_H - 38.0,
            );
            put(
                sh.fit(
                    &format!("送达编号 {service_id}　核验码 {code}"),
                    FOOTNOTE,
                    CONTENT_W,
                ),
                Align::Center,
                LEFT,
                CONTENT_W,
                PAGE_H - 26.0,
            );
            let mut rules = vec![[LEFT, footer_rule, RIGHT, footer_rule]];
            if i > 0 {
                let head_base = 42.0;
                put(
                    sh.fit(&format!("{court} 电子送达凭证（续）"), NOTE, 280.0),
                    Align::Left,
                    LEFT,
                    280.0,
                    head_base,
                );
                put(
                    sh.fit(&format!("案号 {case_number}"), NOTE, 190.0),
                    Align::Right,
                    RIGHT - 190.0,
                    190.0,
                    head_base,
                );
                rules.push([LEFT, 50.0, RIGHT, 50.0]);
            }
            page.push(Op::Lines {
                segs: rules,
                width: 0.5,
                color: GREY,
            });
        }
        self.pages
    }
}
