//! Every table edgesplit prints, laid out in one place by comfy-table: the
//! plain-text tables of reports, `info` and `solvers`, and the Markdown
//! tables of `compare` and the benchmarks (written here, compact). Callers give a header, an alignment per column and
//! the cells as strings (numbers already formatted, see [`crate::eval::sig`]).

use comfy_table::{presets, CellAlignment, ColumnConstraint, Table, Width};

/// How a column's cells sit in their width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text columns.
    Left,
    /// Number columns.
    Right,
}

/// One column: its title, alignment and minimum width (0: as wide as its
/// widest cell). A minimum width keeps reports that print several tables
/// one under the other in the same columns.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    /// The header cell.
    pub title: &'a str,
    /// How the cells sit in the column.
    pub align: Align,
    /// At least this many characters wide (0: no minimum).
    pub min_width: u16,
}

impl<'a> Column<'a> {
    /// A left-aligned column.
    pub fn left(title: &'a str) -> Column<'a> {
        Column {
            title,
            align: Align::Left,
            min_width: 0,
        }
    }

    /// A right-aligned column.
    pub fn right(title: &'a str) -> Column<'a> {
        Column {
            title,
            align: Align::Right,
            min_width: 0,
        }
    }

    /// The same column, at least `width` characters wide.
    pub fn width(self, width: u16) -> Column<'a> {
        Column {
            min_width: width,
            ..self
        }
    }
}

fn build(preset: &str, columns: &[Column], rows: Vec<Vec<String>>, gap: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(preset);
    t.set_header(columns.iter().map(|c| c.title).collect::<Vec<_>>());
    for r in rows {
        t.add_row(r);
    }
    let last = columns.len().saturating_sub(1);
    for (i, c) in columns.iter().enumerate() {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(match c.align {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
            col.set_padding((0, if i == last { 0 } else { gap }));
            if c.min_width > 0 {
                col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                    c.min_width + if i == last { 0 } else { gap },
                )));
            }
        }
    }
    t
}

/// A plain-text table: no borders, columns `gap` spaces apart, every line
/// without trailing spaces and ending in a newline.
pub fn text(columns: &[Column], rows: impl IntoIterator<Item = Vec<String>>, gap: u16) -> String {
    let t = build(presets::NOTHING, columns, rows.into_iter().collect(), gap);
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown (GitHub) table, compact (cells are not padded, so a table
/// in a document changes only where its numbers change); right-aligned
/// columns get `---:` in the rule under the header.
pub fn markdown(columns: &[Column], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let line = |cells: &mut dyn Iterator<Item = String>| -> String {
        let mut out = String::from("|");
        for c in cells {
            // A `|` inside a cell would end it.
            out.push(' ');
            out.push_str(&c.replace('|', "\\|"));
            out.push_str(" |");
        }
        out.push('\n');
        out
    };
    let mut out = line(&mut columns.iter().map(|c| c.title.to_string()));
    out.push('|');
    for c in columns {
        out.push_str(match c.align {
            Align::Left => "---|",
            Align::Right => "---:|",
        });
    }
    out.push('\n');
    for r in rows {
        out.push_str(&line(&mut r.into_iter()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn text_tables_align_and_size_their_columns() {
        let cols = [
            Column::left("name"),
            Column::right("x"),
            Column::left("note"),
        ];
        let out = text(
            &cols,
            cells(&[&["alpha", "1.5", "first"], &["b", "12345", ""]]),
            2,
        );
        assert_eq!(
            out, "name       x  note\nalpha    1.5  first\nb      12345\n",
            "{out}"
        );
    }

    #[test]
    fn minimum_widths_hold_and_long_cells_widen_the_column() {
        let cols = [Column::left("a").width(6), Column::right("b").width(5)];
        let out = text(&cols, cells(&[&["x", "1"], &["longer-name", "2"]]), 1);
        assert_eq!(
            out, "a               b\nx               1\nlonger-name     2\n",
            "{out}"
        );
    }

    #[test]
    fn markdown_marks_right_aligned_columns_and_escapes_bars() {
        let cols = [Column::left("method"), Column::right("objective")];
        let out = markdown(&cols, cells(&[&["a|b", "0.5"]]));
        assert_eq!(
            out, "| method | objective |\n|---|---:|\n| a\\|b | 0.5 |\n",
            "{out}"
        );
    }
}
