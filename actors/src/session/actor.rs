//! One actor per live login session. Socket actors attach themselves when they
//! open and detach when they close; when the session ends ([`EndSession`]), the
//! actor tells every attached socket to close with the given code, then stops.

use std::collections::HashMap;

use actix::prelude::*;

use super::SessionId;
use super::messages::{AttachSocket, CloseSocket, DetachSocket, EndSession};

pub struct SessionActor {
    id: SessionId,
    sockets: HashMap<u64, Recipient<CloseSocket>>,
}

impl SessionActor {
    pub fn new(id: SessionId) -> Self {
        Self {
            id,
            sockets: HashMap::new(),
        }
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;
}

impl Handler<AttachSocket> for SessionActor {
    type Result = ();
    fn handle(&mut self, msg: AttachSocket, _: &mut Context<Self>) {
        self.sockets.insert(msg.socket_id, msg.close);
    }
}

impl Handler<DetachSocket> for SessionActor {
    type Result = ();
    fn handle(&mut self, msg: DetachSocket, _: &mut Context<Self>) {
        self.sockets.remove(&msg.socket_id);
    }
}

impl Handler<EndSession> for SessionActor {
    type Result = ();
    fn handle(&mut self, msg: EndSession, ctx: &mut Context<Self>) {
        tracing::info!(session = %self.id, sockets = self.sockets.len(), code = msg.code.as_u16(), "closing session sockets");
        for (_, socket) in self.sockets.drain() {
            // One message per socket, and closing matters more than back-pressure.
            socket.do_send(CloseSocket {
                code: msg.code,
                reason: msg.reason.clone(),
            });
        }
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::realtime::CloseCode;

    struct FakeSocket(Arc<Mutex<Vec<u16>>>);
    impl Actor for FakeSocket {
        type Context = Context<Self>;
    }
    impl Handler<CloseSocket> for FakeSocket {
        type Result = ();
        fn handle(&mut self, msg: CloseSocket, _: &mut Context<Self>) {
            self.0.lock().unwrap().push(msg.code.as_u16());
        }
    }

    #[actix_rt::test]
    async fn end_session_closes_attached_sockets_only() {
        let closed = Arc::new(Mutex::new(Vec::new()));
        let session = SessionActor::new(SessionId::new_v4()).start();
        for socket_id in 0..3 {
            let socket = FakeSocket(closed.clone()).start();
            session
                .send(AttachSocket {
                    socket_id,
                    close: socket.recipient(),
                })
                .await
                .unwrap();
        }
        session.send(DetachSocket { socket_id: 1 }).await.unwrap();
        session
            .send(EndSession {
                code: CloseCode::SessionEnded,
                reason: "logout".into(),
            })
            .await
            .unwrap();
        // Let the fake sockets process their messages.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(*closed.lock().unwrap(), vec![4001, 4001]);
        assert!(!session.connected(), "the session actor stops after ending");
    }
}
