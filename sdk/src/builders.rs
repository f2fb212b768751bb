//! Builders that keep widget code short: `View::new().heading(..).stat(..)`.

use crate::{
    Action, Alert, Badge, Block, Button, Cell, Chart, ChartKind, ChartPoint, Duration, EmptyState,
    Error, Input, InputKind, KeyValue, Link, ListItem, Metadata, Progress, ProgressStyle, Select,
    SelectOption, SettingKind, SettingSpec, SettingValue, Stat, Table, TileSize, Tone, Trend, View,
};

impl Error {
    /// An error with this message, shown in the widget's tile.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }
}

impl Metadata {
    /// Metadata with a 4×4 default tile, no settings and no periodic refresh.
    /// Pass `env!("CARGO_PKG_VERSION")` as the version so that it matches
    /// the crate (and `plugin.toml`).
    pub fn new(id: &str, name: &str, version: &str) -> Self {
        Metadata {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            description: String::new(),
            settings: Vec::new(),
            default_size: TileSize {
                width: 4,
                height: 4,
            },
            refresh_seconds: 0,
        }
    }
    /// Sets the one-line description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = text.into();
        self
    }
    /// Declares a setting.
    pub fn setting(mut self, spec: SettingSpec) -> Self {
        self.settings.push(spec);
        self
    }
    /// Sets the default tile size: columns (1–12) and 40 px rows.
    pub fn size(mut self, width: u8, height: u8) -> Self {
        self.default_size = TileSize { width, height };
        self
    }
    /// Sets the default refresh interval in seconds.
    pub fn refresh_seconds(mut self, seconds: u32) -> Self {
        self.refresh_seconds = seconds;
        self
    }
}

impl SettingSpec {
    fn of(kind: SettingKind, name: &str, doc: &str) -> Self {
        SettingSpec {
            name: name.into(),
            kind,
            doc: doc.into(),
            default: None,
            required: false,
            choices: Vec::new(),
        }
    }
    /// A text setting.
    pub fn text(name: &str, doc: &str) -> Self {
        Self::of(SettingKind::Text, name, doc)
    }
    /// An integer setting.
    pub fn integer(name: &str, doc: &str) -> Self {
        Self::of(SettingKind::Integer, name, doc)
    }
    /// A number setting.
    pub fn number(name: &str, doc: &str) -> Self {
        Self::of(SettingKind::Number, name, doc)
    }
    /// A boolean setting.
    pub fn boolean(name: &str, doc: &str) -> Self {
        Self::of(SettingKind::Boolean, name, doc)
    }
    /// A list-of-strings setting.
    pub fn text_list(name: &str, doc: &str) -> Self {
        Self::of(SettingKind::TextList, name, doc)
    }
    /// Makes the setting required (the layout must set it).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Restricts a text setting to these values.
    pub fn choices(mut self, values: &[&str]) -> Self {
        self.choices = values.iter().map(|v| v.to_string()).collect();
        self
    }
    /// Sets the default value.
    pub fn default(mut self, value: SettingValue) -> Self {
        self.default = Some(value);
        self
    }
    /// Sets a text default.
    pub fn default_text(self, value: &str) -> Self {
        self.default(SettingValue::Text(value.into()))
    }
    /// Sets an integer default.
    pub fn default_integer(self, value: i64) -> Self {
        self.default(SettingValue::Integer(value))
    }
    /// Sets a number default.
    pub fn default_number(self, value: f64) -> Self {
        self.default(SettingValue::Number(value))
    }
    /// Sets a boolean default.
    pub fn default_bool(self, value: bool) -> Self {
        self.default(SettingValue::Boolean(value))
    }
    /// Sets a list default.
    pub fn default_list(self, values: &[&str]) -> Self {
        self.default(SettingValue::TextList(
            values.iter().map(|v| v.to_string()).collect(),
        ))
    }
}

impl Default for View {
    fn default() -> Self {
        View { blocks: Vec::new() }
    }
}

impl View {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends any block.
    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }
    /// A heading.
    pub fn heading(self, text: impl Into<String>) -> Self {
        self.block(Block::Heading(text.into()))
    }
    /// A paragraph of text.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.block(Block::Text(text.into()))
    }
    /// A stat tile.
    pub fn stat(self, stat: Stat) -> Self {
        self.block(Block::Stat(stat))
    }
    /// Several stat tiles side by side.
    pub fn stats(self, stats: Vec<Stat>) -> Self {
        self.block(Block::Stats(stats))
    }
    /// A table.
    pub fn table(self, table: Table) -> Self {
        self.block(Block::Table(table))
    }
    /// A list.
    pub fn items(self, items: Vec<ListItem>) -> Self {
        self.block(Block::Items(items))
    }
    /// Key-value pairs.
    pub fn key_values<K: Into<String>, V: Into<String>>(
        self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.block(Block::KeyValues(
            pairs
                .into_iter()
                .map(|(k, v)| KeyValue {
                    key: k.into(),
                    value: v.into(),
                })
                .collect(),
        ))
    }
    /// A progress bar or gauge.
    pub fn progress(self, progress: Progress) -> Self {
        self.block(Block::Progress(progress))
    }
    /// A chart.
    pub fn chart(self, chart: Chart) -> Self {
        self.block(Block::Chart(chart))
    }
    /// A status badge.
    pub fn badge(self, label: impl Into<String>, tone: Tone) -> Self {
        self.block(Block::Badge(Badge {
            label: label.into(),
            tone,
        }))
    }
    /// A link.
    pub fn link(self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.block(Block::Link(Link {
            label: label.into(),
            url: url.into(),
        }))
    }
    /// A row of buttons.
    pub fn buttons(self, buttons: Vec<Button>) -> Self {
        self.block(Block::Buttons(buttons))
    }
    /// A single button.
    pub fn button(self, label: impl Into<String>, action: impl Into<String>) -> Self {
        self.buttons(vec![Button::new(label, action)])
    }
    /// A text input.
    pub fn input(self, input: Input) -> Self {
        self.block(Block::Input(input))
    }
    /// A drop-down.
    pub fn select(self, select: Select) -> Self {
        self.block(Block::Select(select))
    }
    /// An alert.
    pub fn alert(self, tone: Tone, message: impl Into<String>) -> Self {
        self.block(Block::Alert(Alert {
            tone,
            title: None,
            message: message.into(),
        }))
    }
    /// An empty state.
    pub fn empty(self, title: impl Into<String>, message: Option<String>) -> Self {
        self.block(Block::Empty(EmptyState {
            title: title.into(),
            message,
        }))
    }
    /// A duration counting up in the browser from `since_ms` (Unix ms).
    pub fn duration(self, label: impl Into<String>, since_ms: u64) -> Self {
        self.block(Block::Duration(Duration {
            label: label.into(),
            since: since_ms,
        }))
    }
}

impl Stat {
    /// A stat with a label and a value.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Stat {
            label: label.into(),
            value: value.into(),
            unit: None,
            trend: None,
            tone: Tone::Neutral,
        }
    }
    /// Sets the unit shown after the value.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }
    /// Sets the trend against a comparison period.
    pub fn trend(mut self, change_percent: f64, label: &str, higher_is_better: bool) -> Self {
        self.trend = Some(Trend {
            change_percent,
            label: label.into(),
            higher_is_better,
        });
        self
    }
    /// Sets the tone.
    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Table {
            caption: None,
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }
    /// Sets the caption (also the table's accessible name).
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }
    /// Appends a row.
    pub fn row(mut self, cells: Vec<Cell>) -> Self {
        self.rows.push(cells);
        self
    }
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
    }
    /// A badge cell.
    pub fn badge(label: impl Into<String>, tone: Tone) -> Self {
        Cell::Badge(Badge {
            label: label.into(),
            tone,
        })
    }
}

impl ListItem {
    /// A list item.
    pub fn new(text: impl Into<String>) -> Self {
        ListItem {
            text: text.into(),
            detail: None,
            tone: Tone::Neutral,
        }
    }
    /// Adds secondary text.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    /// Sets the tone.
    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }
}

impl Progress {
    /// A progress bar from 0 to `max`.
    pub fn bar(label: impl Into<String>, value: f64, max: f64) -> Self {
        Progress {
            label: label.into(),
            value,
            max,
            target: None,
            style: ProgressStyle::Bar,
            tone: Tone::Info,
        }
    }
    /// A gauge from 0 to `max`.
    pub fn gauge(label: impl Into<String>, value: f64, max: f64) -> Self {
        Progress {
            style: ProgressStyle::Gauge,
            ..Self::bar(label, value, max)
        }
    }
    /// Marks a target value.
    pub fn target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }
    /// Sets the tone.
    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }
}

impl Chart {
    /// A chart of this kind from `(label, value)` points.
    pub fn new<S: Into<String>>(
        kind: ChartKind,
        points: impl IntoIterator<Item = (S, f64)>,
    ) -> Self {
        Chart {
            kind,
            title: None,
            unit: None,
            points: points
                .into_iter()
                .map(|(label, value)| ChartPoint {
                    label: label.into(),
                    value,
                })
                .collect(),
        }
    }
    /// Sets the title (also the chart's accessible name).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

impl Button {
    /// A neutral button that sends `action` to `on_action`.
    pub fn new(label: impl Into<String>, action: impl Into<String>) -> Self {
        Button {
            label: label.into(),
            action: action.into(),
            tone: Tone::Neutral,
        }
    }
    /// Sets the tone (`Info` renders as the primary button).
    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }
}

impl Input {
    /// A text input named `name`.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Self {
        Input {
            name: name.into(),
            label: label.into(),
            kind: InputKind::Text,
            value: String::new(),
            placeholder: None,
        }
    }
    /// Sets the kind.
    pub fn kind(mut self, kind: InputKind) -> Self {
        self.kind = kind;
        self
    }
    /// Sets the current value.
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }
    /// Sets the placeholder.
    pub fn placeholder(mut self, placeholder: impl Into<String>) -> Self {
        self.placeholder = Some(placeholder.into());
        self
    }
}

impl Select {
    /// A drop-down named `name` with `(value, label)` options.
    pub fn new<V: Into<String>, L: Into<String>>(
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        Select {
            name: name.into(),
            label: label.into(),
            options: options
                .into_iter()
                .map(|(value, label)| SelectOption {
                    value: value.into(),
                    label: label.into(),
                })
                .collect(),
            selected: None,
        }
    }
    /// Sets the selected value.
    pub fn selected(mut self, value: impl Into<String>) -> Self {
        self.selected = Some(value.into());
        self
    }
}

impl Action {
    /// The value of the form field `name`, if the tile had one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
