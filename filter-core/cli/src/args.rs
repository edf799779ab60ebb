//! Command-line arguments, read by hand: a few switches and options per
//! subcommand do not need a parser crate.

/// The arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    pub positional: Vec<String>,
    switches: Vec<&'static str>,
    options: Vec<(&'static str, String)>,
}

impl Args {
    pub fn has(&self, switch: &str) -> bool {
        self.switches.contains(&switch)
    }

    /// The last value given for an option.
    pub fn value(&self, option: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(name, _)| *name == option)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a repeatable option, in order.
    pub fn values(&self, option: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(name, _)| *name == option)
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

/// Reads `args` given the subcommand's switches (`--json`) and options that
/// take a value (`--name NAME` or `--name=NAME`). `-` is a positional
/// argument (standard input); after `--` everything is.
///
/// # Errors
/// The message for an unknown flag or a missing value.
pub fn parse(
    args: &[String],
    switches: &[&'static str],
    options: &[&'static str],
) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.positional.extend(rest.by_ref().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            parsed.positional.push(arg.clone());
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        if let Some(switch) = switches.iter().find(|s| **s == flag) {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            parsed.switches.push(switch);
        } else if let Some(option) = options.iter().find(|o| **o == flag) {
            let value = match inline {
                Some(value) => value,
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))?,
            };
            parsed.options.push((option, value));
        } else {
            return Err(format!("unknown flag {flag}"));
        }
    }
    Ok(parsed)
}
