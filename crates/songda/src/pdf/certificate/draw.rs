//! The drawing ops of a laid-out page handed to krilla: positioned glyphs in the
//! embedded font (bold without a bold face as a thinly stroked regular face), filled
//! rectangles and ruled lines.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, Paint, Stroke};
use krilla::surface::Surface;

use super::font::CertificateFont;
use super::layout::Op;
use super::{FaceKind, Rgb};

fn paint(color: Rgb) -> Paint {
    rgb::Color::new(color.0, color.1, color.2).into()
}

fn stroke(color: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: paint(color),
        width,
        ..Stroke::default()
    }
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: paint(color),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

pub(super) fn draw(surface: &mut Surface, font: &CertificateFont, op: &Op) {
    match op {
        Op::Text { x, baseline, line } => {
            let st = line.style;
            let (face, faux_bold) = match st.face {
                FaceKind::Regular => (&font.regular, false),
                FaceKind::Bold => font
                    .bold
                    .as_ref()
                    .map_or((&font.regular, true), |b| (b, false)),
                FaceKind::Mono => (font.mono.as_ref().unwrap_or(&font.regular), false),
            };
            surface.set_fill(Some(fill(st.color)));
            surface.set_stroke(faux_bold.then(|| stroke(st.color, st.size * 0.04)));
            surface.draw_glyphs(
                Point::from_xy(*x, *baseline),
                &line.glyphs,
                face.pdf.clone(),
                &line.text,
                st.size,
                false,
            );
            surface.set_stroke(None);
        }
        Op::Rects { rects, color } => {
            let mut pb = PathBuilder::new();
            for r in rects {
                if let Some(rect) = Rect::from_xywh(r[0], r[1], r[2], r[3]) {
                    pb.push_rect(rect);
                }
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*color)));
                surface.draw_path(&path);
            }
        }
        Op::Lines { segs, width, color } => {
            let mut pb = PathBuilder::new();
            for s in segs {
                pb.move_to(s[0], s[1]);
                pb.line_to(s[2], s[3]);
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*color, *width)));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}
