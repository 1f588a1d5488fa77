//! The report as a Word document: [`write_docx`] lays out a [`ReportContent`]
//! with docx-rs on A4: the title and its subtitle lines, each section under a
//! real `heading 1` (Word's navigation pane and a table of contents find it),
//! notes in grey italics, tables sized to the text width with a shaded header
//! row, the evidence pictures with their captions, and page numbers in the
//! footer.
//!
//! Fonts: the document's default run fonts name a Latin font and an East Asian
//! one, so Chinese (Traditional) is drawn in a CJK font wherever it appears;
//! where the named font is missing, Word and LibreOffice substitute one that has
//! the glyphs (LibreOffice: Noto Sans CJK).
//!
//! Pictures: docx-rs 0.4 names every picture part `word/media/<id>.png` and
//! declares `.png` as `image/png`, as it assumed PNG bytes. Ours are the JPEGs of
//! [`PreparedImage`] (a fraction of a PNG's size), so each picture part gets an
//! override in `[Content_Types].xml` declaring it `image/jpeg`; the part's name
//! is only a name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Seek, Write};

use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, LineSpacing, LineSpacingType, NumPages, PageMargin,
    PageNum, Paragraph, Pic, Run, RunFonts, Shading, ShdType, Style, StyleType, Table, TableBorder,
    TableBorderPosition, TableBorders, TableCell, TableCellMargins, TableLayoutType, TableRow,
    VAlignType, WidthType,
};
use uuid::Uuid;

pub use docx_rs::DocxError;

use super::model::{Block, Language, PreparedImage, ReportContent};

/// A4 portrait, in twentieths of a point ("twips", the page's unit).
const PAGE_WIDTH: u32 = 11_906;
const PAGE_HEIGHT: u32 = 16_838;
/// 2 cm on every side.
const MARGIN: u32 = 1_134;
/// The header and footer sit 1 cm from the page's edge.
const HEADER_FOOTER_DISTANCE: u32 = 567;
/// Between the margins: 17 cm.
const TEXT_WIDTH: u32 = PAGE_WIDTH - 2 * MARGIN;

/// English Metric Units (a picture's unit) per twip.
const EMU_PER_TWIP: u64 = 635;
/// One pixel at 96 dpi: the size Word gives a picture it inserts.
const EMU_PER_PIXEL: u64 = 9_525;
/// Pictures are at most 12 cm tall, so a portrait photo leaves room on its page
/// for its caption and the text around it.
const IMAGE_MAX_HEIGHT: u64 = 12 * 360_000;

/// Font sizes, in half-points.
const BODY_SIZE: usize = 22;
const TITLE_SIZE: usize = 36;
const HEADING_SIZE: usize = 28;
const SUBHEADING_SIZE: usize = 24;
const SUBTITLE_SIZE: usize = 20;
const SMALL_SIZE: usize = 18;

const LATIN_FONT: &str = "Arial";
/// Traditional Chinese UI font shipped with Windows (Word also knows it as
/// 微軟正黑體).
const EAST_ASIAN_FONT: &str = "Microsoft JhengHei";

const GREY: &str = "595959";
const HEADING_COLOR: &str = "1F3864";
const TABLE_BORDER_COLOR: &str = "808080";
const TABLE_HEADER_FILL: &str = "D9D9D9";

/// Cell padding, left and right, in twips.
const CELL_PADDING: u32 = 100;
/// Twips a column needs per unit of text width (one Latin character; a CJK
/// character counts two): 11 pt text averages about half an em a character,
/// with room for bold header text.
const TWIPS_PER_UNIT: u32 = 120;
/// More units than this would not fit on a line anyway.
const MAX_UNITS: u32 = TEXT_WIDTH / TWIPS_PER_UNIT;

/// Writes `content` as a .docx to `out`. Each [`Block::Image`] is embedded from
/// the [`PreparedImage`] with its `file_id`; one without is written as its
/// caption and a line saying the picture could not be included.
pub fn write_docx(
    content: &ReportContent,
    images: &[PreparedImage],
    out: impl Write + Seek,
) -> Result<(), DocxError> {
    let language = content.language;
    let prepared: HashMap<Uuid, &PreparedImage> =
        images.iter().map(|image| (image.file_id, image)).collect();
    // One picture part per distinct picture: docx-rs stores identical bytes
    // once, so they share one relationship id (and one content-type override).
    let mut media: HashMap<&[u8], String> = HashMap::new();

    let mut docx = with_styles(
        Docx::new()
            .page_size(PAGE_WIDTH, PAGE_HEIGHT)
            .page_margin(
                PageMargin::new()
                    .top(MARGIN as i32)
                    .bottom(MARGIN as i32)
                    .left(MARGIN as i32)
                    .right(MARGIN as i32)
                    .header(HEADER_FOOTER_DISTANCE as i32)
                    .footer(HEADER_FOOTER_DISTANCE as i32),
            )
            .default_fonts(fonts(language))
            .default_size(BODY_SIZE)
            .default_line_spacing(
                LineSpacing::new()
                    .after(120)
                    .line(276)
                    .line_rule(LineSpacingType::Auto),
            )
            .footer(footer(language)),
    );

    docx = docx.add_paragraph(
        Paragraph::new()
            .style("Title")
            .keep_next(true)
            .add_run(text_run(&content.title)),
    );
    for line in &content.subtitle {
        docx = docx.add_paragraph(Paragraph::new().style("Subtitle").add_run(text_run(line)));
    }
    for section in &content.sections {
        docx = docx.add_paragraph(
            Paragraph::new()
                .style("Heading1")
                .keep_next(true)
                .add_run(text_run(&section.heading)),
        );
        for block in &section.blocks {
            docx = match block {
                Block::Paragraph { text } => {
                    docx.add_paragraph(Paragraph::new().add_run(text_run(text)))
                }
                Block::Note { text } => docx.add_paragraph(note(text)),
                Block::Subheading { text } => docx.add_paragraph(
                    Paragraph::new()
                        .style("Heading2")
                        .keep_next(true)
                        .add_run(text_run(text)),
                ),
                Block::Table { header, rows } => match table(header, rows) {
                    // Two tables in a row would merge into one: a thin
                    // paragraph after each keeps them apart.
                    Some(table) => docx.add_table(table).add_paragraph(
                        Paragraph::new().line_spacing(
                            LineSpacing::new()
                                .after(0)
                                .line(120)
                                .line_rule(LineSpacingType::Exact),
                        ),
                    ),
                    None => docx,
                },
                Block::Image { file_id, caption } => match prepared.get(file_id) {
                    Some(image) => {
                        let next = media.len() + 1;
                        let id = media
                            .entry(image.jpeg.as_slice())
                            .or_insert_with(|| format!("rIdEvidence{next}"));
                        docx.add_paragraph(picture(image, id))
                            .add_paragraph(caption_paragraph(caption))
                    }
                    None => docx
                        .add_paragraph(missing_picture(language))
                        .add_paragraph(caption_paragraph(caption)),
                },
            };
        }
    }
    for id in media.values() {
        docx.content_type = docx
            .content_type
            .add_content(format!("/word/media/{id}.png"), "image/jpeg");
    }
    docx.pack(out)?;
    Ok(())
}

/// Every run's fonts, from the document's defaults. In a Chinese report,
/// characters shared by both scripts (quotes, some punctuation) are drawn in the
/// East Asian font too, as Word does for text typed in Chinese.
fn fonts(language: Language) -> RunFonts {
    let fonts = RunFonts::new()
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
        .cs(LATIN_FONT)
        .east_asia(EAST_ASIAN_FONT);
    match language {
        Language::ZhTw => fonts.hint("eastAsia"),
        Language::En => fonts,
    }
}

/// The paragraph styles the document uses, under the names Word gives its
/// built-in ones, so Word treats them as those (a heading is a heading).
fn with_styles(docx: Docx) -> Docx {
    let paragraph = |id: &str, name: &str| {
        Style::new(id, StyleType::Paragraph)
            .name(name)
            .based_on("Normal")
            .next("Normal")
    };
    docx.add_style(
        paragraph("Title", "Title")
            .size(TITLE_SIZE)
            .bold()
            .line_spacing(LineSpacing::new().after(120)),
    )
    .add_style(
        paragraph("Subtitle", "Subtitle")
            .size(SUBTITLE_SIZE)
            .color(GREY)
            .line_spacing(LineSpacing::new().after(40)),
    )
    .add_style(
        paragraph("Heading1", "heading 1")
            .size(HEADING_SIZE)
            .bold()
            .color(HEADING_COLOR)
            .outline_lvl(0)
            .line_spacing(LineSpacing::new().before(360).after(120)),
    )
    .add_style(
        paragraph("Heading2", "heading 2")
            .size(SUBHEADING_SIZE)
            .bold()
            .color(HEADING_COLOR)
            .outline_lvl(1)
            .line_spacing(LineSpacing::new().before(240).after(80)),
    )
    .add_style(
        paragraph("Caption", "caption")
            .size(SMALL_SIZE)
            .italic()
            .color(GREY)
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().after(240)),
    )
    .add_style(
        paragraph("Footer", "footer")
            .size(SMALL_SIZE)
            .color(GREY)
            .align(AlignmentType::Center),
    )
}

/// "Page 2 of 5", centred at the foot of every page.
fn footer(language: Language) -> Footer {
    let (before, between, after) = match language {
        Language::ZhTw => ("第 ", " 頁，共 ", " 頁"),
        Language::En => ("Page ", " of ", ""),
    };
    let mut paragraph = Paragraph::new()
        .style("Footer")
        .add_run(Run::new().add_text(before))
        .add_page_num(PageNum::new())
        .add_run(Run::new().add_text(between))
        .add_num_pages(NumPages::new());
    if !after.is_empty() {
        paragraph = paragraph.add_run(Run::new().add_text(after));
    }
    Footer::new().add_paragraph(paragraph)
}

/// A run of `text`, its line breaks kept as line breaks.
fn text_run(text: &str) -> Run {
    let mut run = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(xml_text(line.trim_end_matches('\r')));
    }
    run
}

/// `text` without the characters XML 1.0 cannot hold (control characters other
/// than tab and line ends, and U+FFFE/U+FFFF): docx-rs escapes markup but
/// writes those as they are, and Word refuses a document that has one. Chat
/// messages can carry them (a pasted terminal log's escape sequences).
fn xml_text(text: &str) -> Cow<'_, str> {
    // XML 1.0's `Char`; a Rust `char` is never a surrogate.
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{fffd}' | '\u{10000}'..);
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

fn note(text: &str) -> Paragraph {
    Paragraph::new().add_run(text_run(text).italic().color(GREY))
}

/// In place of a picture that could not be prepared: why it is not there. Its
/// caption follows as usual.
fn missing_picture(language: Language) -> Paragraph {
    note(language.pick(
        "（此圖片未能放入報告：檔案過大或無法讀取。）",
        "(This picture could not be included: it is too large or could not be read.)",
    ))
    .align(AlignmentType::Center)
    .keep_next(true)
}

fn caption_paragraph(caption: &str) -> Paragraph {
    Paragraph::new().style("Caption").add_run(text_run(caption))
}

/// `image` centred on a line of its own, kept on the page of its caption.
fn picture(image: &PreparedImage, id: &str) -> Paragraph {
    let (cx, cy) = display_size(image.width, image.height);
    let pic = Pic::new_with_dimensions(image.jpeg.clone(), image.width, image.height)
        .id(id)
        .size(cx, cy);
    Paragraph::new()
        .align(AlignmentType::Center)
        .keep_next(true)
        .line_spacing(LineSpacing::new().before(120).after(60))
        .add_run(Run::new().add_image(pic))
}

/// A picture's size on the page, in EMU: its own at 96 dpi, shrunk (never
/// enlarged, which would only blur it) to fit the text width and
/// [`IMAGE_MAX_HEIGHT`], keeping its shape.
fn display_size(width_px: u32, height_px: u32) -> (u32, u32) {
    let width = (u64::from(width_px.max(1)) * EMU_PER_PIXEL) as f64;
    let height = (u64::from(height_px.max(1)) * EMU_PER_PIXEL) as f64;
    let max_width = (u64::from(TEXT_WIDTH) * EMU_PER_TWIP) as f64;
    let scale = (max_width / width)
        .min(IMAGE_MAX_HEIGHT as f64 / height)
        .min(1.0);
    // At most the text width or the page's height in EMU: well within u32.
    let emu = |v: f64| ((v * scale).round() as u32).max(1);
    (emu(width), emu(height))
}

/// A bordered table across the text width, `header` as its first row, bold and
/// shaded. Rows shorter than the widest are padded with empty cells. `None`
/// when there is not a single column.
fn table(header: &[String], rows: &[Vec<String>]) -> Option<Table> {
    let columns = rows.iter().map(Vec::len).chain([header.len()]).max()?;
    if columns == 0 {
        return None;
    }
    let widths = column_widths(header, rows, columns);
    let row = |texts: &[String], is_header: bool| {
        let cells = widths
            .iter()
            .enumerate()
            .map(|(i, &width)| {
                let text = texts.get(i).map_or("", String::as_str);
                let run = if is_header {
                    text_run(text).bold()
                } else {
                    text_run(text)
                };
                // Centred: a line of CJK text is taller than a Latin one, and
                // top-aligned cells of one row would not line up.
                let cell = TableCell::new()
                    .width(width as usize, WidthType::Dxa)
                    .vertical_align(VAlignType::Center)
                    .add_paragraph(
                        Paragraph::new()
                            .line_spacing(LineSpacing::new().before(0).after(0))
                            .add_run(run),
                    );
                if is_header {
                    cell.shading(
                        Shading::new()
                            .shd_type(ShdType::Clear)
                            .color("auto")
                            .fill(TABLE_HEADER_FILL),
                    )
                } else {
                    cell
                }
            })
            .collect();
        TableRow::new(cells)
    };
    let mut table_rows = Vec::with_capacity(rows.len() + 1);
    if !header.is_empty() {
        table_rows.push(row(header, true));
    }
    table_rows.extend(rows.iter().map(|r| row(r, false)));
    let borders = [
        TableBorderPosition::Top,
        TableBorderPosition::Bottom,
        TableBorderPosition::Left,
        TableBorderPosition::Right,
        TableBorderPosition::InsideH,
        TableBorderPosition::InsideV,
    ]
    .into_iter()
    .fold(TableBorders::new(), |borders, position| {
        borders.set(TableBorder::new(position).size(4).color(TABLE_BORDER_COLOR))
    });
    Some(
        Table::new(table_rows)
            .set_grid(widths.iter().map(|&w| w as usize).collect())
            .width(TEXT_WIDTH as usize, WidthType::Dxa)
            .layout(TableLayoutType::Fixed)
            .margins(TableCellMargins::new().margin(
                40,
                CELL_PADDING as usize,
                40,
                CELL_PADDING as usize,
            ))
            .set_borders(borders),
    )
}

/// The columns' widths in twips, adding up to the text width. Each column
/// wants the width of its longest line of text; when all fit, the space left
/// is shared out equally. When they do not, the narrow columns keep their
/// width and the wide ones share what is left equally, wrapping their text (a
/// time or a name stays on one line; a message wraps).
fn column_widths(header: &[String], rows: &[Vec<String>], columns: usize) -> Vec<u32> {
    let wanted: Vec<u32> = (0..columns)
        .map(|i| {
            let longest = header
                .get(i)
                .into_iter()
                .chain(rows.iter().filter_map(|row| row.get(i)))
                .map(|text| text_units(text))
                .max()
                .unwrap_or(0);
            longest.clamp(1, MAX_UNITS) * TWIPS_PER_UNIT + 2 * CELL_PADDING
        })
        .collect();
    let count = u32::try_from(columns).unwrap_or(u32::MAX);
    let total = wanted.iter().fold(0u32, |sum, &w| sum.saturating_add(w));
    let mut widths: Vec<u32> = if total <= TEXT_WIDTH {
        let share = (TEXT_WIDTH - total) / count;
        wanted.iter().map(|&w| w + share).collect()
    } else {
        // The widest a column may be: the narrower ones, ascending, take what
        // they want while the rest could still have as much each.
        let mut ascending = wanted.clone();
        ascending.sort_unstable();
        let mut left = TEXT_WIDTH;
        let mut cap = TEXT_WIDTH;
        for (i, &w) in ascending.iter().enumerate() {
            let others = count - i as u32;
            if u64::from(w) * u64::from(others) > u64::from(left) {
                cap = left / others;
                break;
            }
            left -= w;
        }
        wanted.iter().map(|&w| w.min(cap)).collect()
    };
    // What rounding left over goes to the widest column.
    let used: u32 = widths.iter().sum();
    if let Some(widest) = widths.iter_mut().max() {
        *widest += TEXT_WIDTH.saturating_sub(used);
    }
    widths
}

/// The width of `text`'s longest line, in units of a Latin character; CJK and
/// other characters of three or more UTF-8 bytes are drawn about twice as wide.
fn text_units(text: &str) -> u32 {
    text.lines()
        .map(|line| {
            line.chars()
                .map(|c| if c.len_utf8() >= 3 { 2 } else { 1 })
                .fold(0u32, u32::saturating_add)
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::*;
    use crate::reports::images::tests::jpeg;
    use crate::reports::model::{Section, SectionKey};

    fn prepared(width: u32, height: u32) -> PreparedImage {
        PreparedImage {
            file_id: Uuid::new_v4(),
            jpeg: jpeg(width, height, None),
            width,
            height,
        }
    }

    /// A report with every kind of block: a paragraph over two lines, a note, a
    /// table (one row short, one holding a control character), two pictures
    /// (one shown twice) and one whose picture is missing.
    fn report(language: Language, images: &[PreparedImage]) -> ReportContent {
        let zh = language == Language::ZhTw;
        let t = |zh_text: &str, en_text: &str| (if zh { zh_text } else { en_text }).to_string();
        let section = |key: SectionKey, blocks: Vec<Block>| Section {
            key,
            heading: key.heading(language).to_string(),
            blocks,
        };
        ReportContent {
            language,
            title: t(
                "事件報告：三號線輸送帶停止",
                "Incident report: line 3 conveyor stopped",
            ),
            subtitle: vec![
                t(
                    "房間 7f3a，產生者：王小明",
                    "Room 7f3a, generated by Wang Xiaoming",
                ),
                t("時區：Asia/Taipei", "Time zone: Asia/Taipei"),
            ],
            sections: vec![
                section(
                    SectionKey::Summary,
                    vec![
                        Block::Paragraph {
                            text: t(
                                "輸送帶於 08:15 停止。\n馬達過熱。",
                                "The conveyor stopped at 08:15.\nThe motor overheated.",
                            ),
                        },
                        Block::Note {
                            text: t(
                                "模型逾時，內容取自紀錄。",
                                "The model timed out; the text is from the record.",
                            ),
                        },
                    ],
                ),
                section(
                    SectionKey::Timeline,
                    vec![
                        Block::Subheading {
                            text: t("關鍵事件（釘選訊息）", "Key events (pinned messages)"),
                        },
                        Block::Table {
                            header: vec![t("時間", "Time"), t("人員", "Who"), t("事件", "What")],
                            rows: vec![
                                vec![
                                    "2025-03-04 08:15".into(),
                                    t("王小明", "Wang"),
                                    t("建立事件", "Opened the incident"),
                                ],
                                vec!["2025-03-04 08:20".into(), t("李小華", "Li")],
                                vec![
                                    "2025-03-04 08:31".into(),
                                    "\u{1b}[31mPLC\u{0}\u{ffff}".into(),
                                    t("更換馬達", "Replaced the motor"),
                                ],
                            ],
                        },
                    ],
                ),
                section(
                    SectionKey::Evidence,
                    vec![
                        Block::Image {
                            file_id: images[0].file_id,
                            caption: t("圖一：馬達", "Figure 1: the motor"),
                        },
                        Block::Image {
                            file_id: images[1].file_id,
                            caption: t("圖二：控制盤", "Figure 2: the panel"),
                        },
                        Block::Image {
                            file_id: images[0].file_id,
                            caption: t("圖一（再次）", "Figure 1 again"),
                        },
                        Block::Image {
                            file_id: Uuid::new_v4(),
                            caption: t("圖三：過大的照片", "Figure 3: a huge photo"),
                        },
                    ],
                ),
            ],
        }
    }

    struct Package(zip::ZipArchive<Cursor<Vec<u8>>>);

    impl Package {
        fn write(content: &ReportContent, images: &[PreparedImage]) -> (Self, Vec<u8>) {
            let mut out = Cursor::new(Vec::new());
            write_docx(content, images, &mut out).unwrap();
            let bytes = out.into_inner();
            (
                Self(zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap()),
                bytes,
            )
        }

        fn bytes(&mut self, name: &str) -> Vec<u8> {
            let mut out = Vec::new();
            self.0.by_name(name).unwrap().read_to_end(&mut out).unwrap();
            out
        }

        fn text(&mut self, name: &str) -> String {
            String::from_utf8(self.bytes(name)).unwrap()
        }

        fn media(&self) -> Vec<String> {
            let mut names: Vec<String> = self
                .0
                .file_names()
                .filter(|n| n.starts_with("word/media/") && !n.ends_with('/'))
                .map(str::to_string)
                .collect();
            names.sort();
            names
        }
    }

    #[test]
    fn every_block_lands_in_the_document_in_both_languages() {
        let images = [prepared(1280, 640), prepared(480, 640)];
        for language in [Language::ZhTw, Language::En] {
            let content = report(language, &images);
            let (mut package, bytes) = Package::write(&content, &images);
            let document = package.text("word/document.xml");

            let mut expected = vec![content.title.clone()];
            expected.extend(content.subtitle.iter().cloned());
            for section in &content.sections {
                expected.push(section.heading.clone());
                for block in &section.blocks {
                    match block {
                        Block::Paragraph { text }
                        | Block::Note { text }
                        | Block::Subheading { text } => {
                            expected.extend(text.lines().map(str::to_string));
                        }
                        Block::Table { header, rows } => {
                            expected.extend(header.iter().cloned());
                            expected
                                .extend(rows.iter().flatten().map(|c| xml_text(c).into_owned()));
                        }
                        Block::Image { caption, .. } => expected.push(caption.clone()),
                    }
                }
            }
            for text in &expected {
                assert!(
                    document.contains(text.as_str()),
                    "{language:?}: {text:?} missing"
                );
            }
            if language == Language::ZhTw {
                assert!(document.contains("輸送帶於 08:15 停止。"));
                assert!(document.contains("此圖片未能放入報告"));
            } else {
                assert!(document.contains("This picture could not be included"));
            }
            // The characters XML cannot hold are gone; the text around them stays.
            assert!(!document.contains(['\u{1b}', '\u{0}', '\u{ffff}']));
            assert!(document.contains("[31mPLC"));
            // Each section's heading is a Word heading.
            assert_eq!(
                document.matches(r#"<w:pStyle w:val="Heading1" />"#).count(),
                content.sections.len()
            );
            let styles = package.text("word/styles.xml");
            assert!(styles.contains(r#"w:styleId="Heading1""#));
            assert!(styles.contains(r#"<w:name w:val="heading 1" />"#));
            assert!(styles.contains(r#"<w:outlineLvl w:val="0" />"#));
            // A sub-heading (the timeline's key events) is a level-2 Word heading.
            assert_eq!(
                document.matches(r#"<w:pStyle w:val="Heading2" />"#).count(),
                1
            );
            assert!(styles.contains(r#"<w:name w:val="heading 2" />"#));
            assert!(styles.contains(r#"w:eastAsia="Microsoft JhengHei""#));
            assert!(styles.contains(r#"w:ascii="Arial""#));
            // A4 with 2 cm margins; page numbers in the footer.
            assert!(document.contains(r#"<w:pgSz w:w="11906" w:h="16838" />"#));
            let footer = package.text("word/footer1.xml");
            assert!(footer.contains("PAGE") && footer.contains("NUMPAGES"));

            // One part per distinct picture, holding its JPEG, declared as one.
            let media = package.media();
            assert_eq!(media.len(), 2, "{media:?}");
            let mut stored: Vec<Vec<u8>> = media.iter().map(|m| package.bytes(m)).collect();
            let mut given: Vec<Vec<u8>> = images.iter().map(|i| i.jpeg.clone()).collect();
            stored.sort();
            given.sort();
            assert_eq!(stored, given);
            let types = package.text("[Content_Types].xml");
            let rels = package.text("word/_rels/document.xml.rels");
            for part in &media {
                assert!(
                    types.contains(&format!(r#"PartName="/{part}" ContentType="image/jpeg""#)),
                    "{part} is not declared a JPEG: {types}"
                );
                let target = part.trim_start_matches("word/");
                assert!(rels.contains(&format!(r#"Target="{target}""#)), "{rels}");
            }
            // The first picture spans the text width; the portrait one is 12 cm tall.
            assert!(document.contains(r#"<wp:extent cx="6120130" cy="3060065" />"#));
            assert!(document.contains(r#"cy="4320000""#));
            // The whole package reads back.
            docx_rs::read_docx(&bytes).unwrap();
        }
    }

    #[test]
    fn pictures_shrink_to_the_text_width_and_12_cm_but_never_grow() {
        let text_width = u32::try_from(u64::from(TEXT_WIDTH) * EMU_PER_TWIP).unwrap();
        assert_eq!(display_size(1280, 640), (text_width, text_width / 2));
        assert_eq!(display_size(960, 1280), (3_240_000, 4_320_000));
        assert_eq!(display_size(100, 50), (952_500, 476_250));
        assert_eq!(display_size(0, 0), (9_525, 9_525));
    }

    #[test]
    fn columns_fill_the_text_width_and_short_ones_keep_their_text_on_a_line() {
        let strings = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        // All fit: widths follow the text and add up to the text width.
        let widths = column_widths(&strings(&["A", "Bb"]), &[strings(&["a", "bbbb"])], 2);
        assert_eq!(widths.iter().sum::<u32>(), TEXT_WIDTH);
        assert!(widths[0] < widths[1], "{widths:?}");
        // Too wide: the time and the name keep their width, the message wraps.
        let message = "很長的訊息".repeat(40);
        let header = strings(&["時間", "人員", "訊息"]);
        let rows = vec![strings(&["2025-03-04 08:15", "王小明", &message])];
        let widths = column_widths(&header, &rows, 3);
        assert_eq!(widths.iter().sum::<u32>(), TEXT_WIDTH);
        assert_eq!(widths[0], 16 * TWIPS_PER_UNIT + 2 * CELL_PADDING);
        assert_eq!(widths[1], 6 * TWIPS_PER_UNIT + 2 * CELL_PADDING);
        // Many wide columns share the width equally.
        let wide = "x".repeat(200);
        let widths = column_widths(&[], &[vec![wide.clone(), wide.clone(), wide]], 3);
        assert_eq!(widths.iter().sum::<u32>(), TEXT_WIDTH);
        assert!(widths.iter().all(|&w| w >= TEXT_WIDTH / 3), "{widths:?}");
    }

    #[test]
    fn empty_tables_are_left_out() {
        assert!(table(&[], &[]).is_none());
        assert!(table(&[], &[vec![]]).is_none());
        assert!(table(&["A".into()], &[]).is_some());
    }
}
