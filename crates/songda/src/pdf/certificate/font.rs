//! The certificate's font: which system CJK font to use, loaded once per process and
//! checked to be one we can shape, embed and trust with mainland glyph forms, plus the
//! optional bold and monospaced faces of the same family.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustybuzz::ttf_parser;

use super::PdfError;

/// A CJK font loaded once (tens of MB): shared bytes and face index, cheap to clone.
///
/// Holds a regular face, a bold face when the family has one (otherwise bold text is
/// drawn as a stroked regular face) and a monospaced face for hashes when Noto Sans
/// Mono CJK is installed (otherwise hashes use the regular face).
#[derive(Clone)]
pub struct CertificateFont {
    pub(super) regular: Face,
    pub(super) bold: Option<Face>,
    pub(super) mono: Option<Face>,
}

#[derive(Clone)]
pub(super) struct Face {
    pub(super) data: Arc<Vec<u8>>,
    pub(super) index: u32,
    pub(super) path: PathBuf,
    pub(super) family: String,
    pub(super) pdf: krilla::text::Font,
}

/// A system font to try, in order of preference.
pub(super) struct Candidate {
    pub(super) regular: &'static str,
    pub(super) bold: Option<&'static str>,
    pub(super) index: u32,
    /// The family-name ending of the face we want. Noto CJK collections hold one face
    /// per region (JP, KR, SC, TC, HK); only SC has the mainland's glyph forms, which a
    /// mainland court's paper must use. `None` for single-face files.
    pub(super) family_suffix: Option<&'static str>,
}

const CANDIDATES: [Candidate; 3] = [
    Candidate {
        regular: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        bold: Some("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
        index: 2,
        family_suffix: Some(" CJK SC"),
    },
    Candidate {
        regular: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        bold: Some("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
        index: 2,
        family_suffix: Some(" CJK SC"),
    },
    Candidate {
        regular: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        bold: None,
        index: 0,
        family_suffix: None,
    },
];

/// Noto Sans Mono CJK SC, face 7 of the Sans collection: half-width Latin of one
/// advance, so the 64 hex digits of a hash line up and are easy to compare.
const MONO: Candidate = Candidate {
    regular: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    bold: None,
    index: 7,
    family_suffix: Some("Mono CJK SC"),
};

impl CertificateFont {
    /// Loads `explicit` (`PATH` or `PATH#INDEX`) if given, else the first that exists
    /// of Noto Serif CJK SC, Noto Sans CJK SC (both from Debian's `fonts-noto-cjk`) and
    /// WenQuanYi Micro Hei. For the Noto collections the face is checked by its family
    /// name and, should the collection be ordered differently, the SC face is found by
    /// name instead.
    pub fn discover(explicit: Option<&Path>) -> Result<Self, PdfError> {
        let mut files = FontFiles::default();
        if let Some(spec) = explicit {
            let (path, index) = split_face_spec(spec);
            let regular = Face::load(&mut files, &path, index, None)?;
            return Ok(Self {
                regular,
                bold: None,
                mono: None,
            });
        }
        Self::discover_among(&mut files, &CANDIDATES)
    }

    pub(super) fn discover_among(
        files: &mut FontFiles,
        candidates: &[Candidate],
    ) -> Result<Self, PdfError> {
        let Some(found) = candidates.iter().find(|c| Path::new(c.regular).is_file()) else {
            let looked_for: Vec<String> = candidates
                .iter()
                .map(|c| format!("{} (face {})", c.regular, c.index))
                .collect();
            return Err(PdfError::Font(format!(
                "no CJK font for the certificate: looked for {}; install the Debian package \
                 fonts-noto-cjk or name a font file",
                looked_for.join(", ")
            )));
        };
        let regular = Face::load(
            files,
            Path::new(found.regular),
            found.index,
            found.family_suffix,
        )?;
        // Bold and mono only make the paper nicer; without them it is still complete.
        let bold = found.bold.filter(|p| Path::new(p).is_file()).and_then(|p| {
            Face::load(files, Path::new(p), found.index, found.family_suffix)
                .inspect_err(|e| tracing::warn!("certificate bold font not used: {e}"))
                .ok()
        });
        let mono = Path::new(MONO.regular).is_file().then(|| {
            Face::load(
                files,
                Path::new(MONO.regular),
                MONO.index,
                MONO.family_suffix,
            )
            .inspect_err(|e| tracing::warn!("certificate mono font not used: {e}"))
            .ok()
        });
        Ok(Self {
            regular,
            bold,
            mono: mono.flatten(),
        })
    }

    /// Which files and faces were chosen, for logs.
    pub fn describe(&self) -> String {
        let face = |f: &Face| format!("{} ({}#{})", f.family, f.path.display(), f.index);
        let mut out = face(&self.regular);
        match &self.bold {
            Some(b) => out.push_str(&format!("; bold {}", face(b))),
            None => out.push_str("; bold drawn as stroked regular"),
        }
        match &self.mono {
            Some(m) => out.push_str(&format!("; hashes {}", face(m))),
            None => out.push_str("; hashes in the regular face"),
        }
        out
    }
}

/// Files read during one discovery: the mono face lives in the same collection as
/// the Sans regular face, and must not cost a second copy.
#[derive(Default)]
pub(super) struct FontFiles(HashMap<PathBuf, Arc<Vec<u8>>>);

impl FontFiles {
    fn read(&mut self, path: &Path) -> Result<Arc<Vec<u8>>, PdfError> {
        if let Some(data) = self.0.get(path) {
            return Ok(data.clone());
        }
        let data = std::fs::read(path).map_err(|e| {
            PdfError::Font(format!(
                "cannot read the certificate font {}: {e}",
                path.display()
            ))
        })?;
        let data = Arc::new(data);
        self.0.insert(path.to_path_buf(), data.clone());
        Ok(data)
    }
}

/// `PATH#INDEX` → (PATH, INDEX); a `#` not followed by a number is part of the path.
pub(super) fn split_face_spec(spec: &Path) -> (PathBuf, u32) {
    if let Some(text) = spec.to_str()
        && let Some((path, index)) = text.rsplit_once('#')
        && let Ok(index) = index.parse::<u32>()
    {
        return (PathBuf::from(path), index);
    }
    (spec.to_path_buf(), 0)
}

impl Face {
    fn load(
        files: &mut FontFiles,
        path: &Path,
        index: u32,
        family_suffix: Option<&str>,
    ) -> Result<Self, PdfError> {
        let data = files.read(path)?;
        let index = match family_suffix {
            Some(suffix) => face_with_family(&data, index, suffix, path),
            None => index,
        };
        let parsed = ttf_parser::Face::parse(&data, index).map_err(|e| {
            PdfError::Font(format!(
                "{} has no readable font face {index}: {e}",
                path.display()
            ))
        })?;
        let family = family_name(&parsed).unwrap_or_else(|| "unnamed face".to_owned());
        if parsed.glyph_index('送').is_none() {
            return Err(PdfError::Font(format!(
                "{}#{index} ({family}) has no Chinese characters",
                path.display()
            )));
        }
        let usable = rustybuzz::Face::from_slice(&data, index).is_some();
        let pdf = krilla::text::Font::new(data.clone().into(), index).filter(|_| usable);
        let Some(pdf) = pdf else {
            return Err(PdfError::Font(format!(
                "{}#{index} ({family}) cannot be embedded",
                path.display()
            )));
        };
        Ok(Self {
            data,
            index,
            path: path.to_path_buf(),
            family,
            pdf,
        })
    }
}

/// The face of a collection whose family name ends in `suffix`: `preferred` when it
/// does, else the first that does, else `preferred` all the same.
pub(super) fn face_with_family(data: &[u8], preferred: u32, suffix: &str, path: &Path) -> u32 {
    let family_of = |i| {
        ttf_parser::Face::parse(data, i)
            .ok()
            .and_then(|f| family_name(&f))
    };
    if family_of(preferred).is_some_and(|f| f.ends_with(suffix)) {
        return preferred;
    }
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    match (0..count).find(|&i| family_of(i).is_some_and(|f| f.ends_with(suffix))) {
        Some(found) => {
            tracing::warn!(
                "{} face {preferred} is not the *{suffix} face; using face {found}",
                path.display()
            );
            found
        }
        None => preferred,
    }
}

/// The face's family name from the `name` table, in English where there is a choice.
fn family_name(face: &ttf_parser::Face) -> Option<String> {
    let names = face.names();
    let pick = |id: u16| {
        names
            .into_iter()
            .filter(|n| n.name_id == id && n.is_unicode())
            .max_by_key(|n| n.language() == ttf_parser::Language::English_UnitedStates)
            .and_then(|n| n.to_string())
    };
    pick(ttf_parser::name_id::TYPOGRAPHIC_FAMILY).or_else(|| pick(ttf_parser::name_id::FAMILY))
}
