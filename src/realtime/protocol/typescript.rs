//! The web client's protocol types, generated from the Rust ones: a hand-written
//! mirror drifts silently, a generated file that is checked in and compared here
//! cannot.

use andon_actors::realtime::{
    CloseCode, EventKind, Notification, NotificationKind, ServerFrame, UnsubscribeReason, WsCode,
};
use ts_rs::{Config, TS};

use super::{ClientFrame, SendFrame};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web/src/protocol/generated.ts");
const UPDATE: &str = "ANDON_UPDATE_TS";

fn declare<T: TS + 'static>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

/// The text of `web/src/protocol/generated.ts`.
fn generate() -> String {
    // Every integer of the protocol (seq, ms) is far below 2^53: a JSON number.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types of the wire protocol (actors/src/realtime/frames.rs,\n\
         // src/realtime/protocol.rs): do not edit. After changing them, run\n\
         //   ANDON_UPDATE_TS=1 cargo test --lib typescript\n\
         /* eslint-disable */\n\n",
    );
    declare::<ServerFrame>(&cfg, &mut out);
    declare::<UnsubscribeReason>(&cfg, &mut out);
    declare::<Notification>(&cfg, &mut out);
    declare::<NotificationKind>(&cfg, &mut out);
    declare::<WsCode>(&cfg, &mut out);
    declare::<ClientFrame>(&cfg, &mut out);
    declare::<SendFrame>(&cfg, &mut out);
    out.push_str(
        "/** A frame with the `ref` of the client frame it answers (or that the client sent). */\n\
         export type WithRef<F> = F & { ref?: unknown };\n\n",
    );
    out.push_str("/** WebSocket close codes of the server (docs/PROTOCOL.md). */\nexport const CloseCode = {\n");
    for code in CloseCode::ALL {
        out.push_str(&format!("  {}: {},\n", code.name(), code.as_u16()));
    }
    out.push_str(
        "} as const;\nexport type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];\n",
    );
    // The `kind` of an `event` frame is one of these (a client maps each one to a
    // change of a message or a line of its own: its tests go through this list).
    out.push_str(
        "\n/** Every kind of room event, as in `event` frames (actors/src/realtime/kind.rs). */\nexport const EVENT_KINDS = [\n",
    );
    for kind in EventKind::ALL {
        out.push_str(&format!("  \"{}\",\n", kind.as_str()));
    }
    out.push_str("] as const;\nexport type EventKind = (typeof EVENT_KINDS)[number];\n");
    out
}

#[test]
fn the_generated_typescript_is_up_to_date() {
    let fresh = generate();
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(PATH, &fresh).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "web/src/protocol/generated.ts is stale (the Rust protocol types changed): \
         run `{UPDATE}=1 cargo test --lib typescript` and commit the file"
    );
}

#[test]
fn the_generated_typescript_names_every_code() {
    let ts = generate();
    for code in WsCode::ALL {
        assert!(ts.contains(&format!("\"{}\"", code.as_str())), "{code}");
    }
    for code in CloseCode::ALL {
        assert!(ts.contains(&format!("{}: {},", code.name(), code.as_u16())));
    }
    for kind in EventKind::ALL {
        assert!(
            ts.contains(&format!("  \"{}\",\n", kind.as_str())),
            "{kind}"
        );
    }
}
