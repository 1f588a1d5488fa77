-- Mentions (issue 20). A mention is a `mentioned` notification (V12), written
-- in the send batch's transaction for each member a message mentions. The room
-- list shows each member the mentions after their read marker: this index
-- makes that one short range read per listed room, over that user's mentions
-- in that room only. The send path writes nothing more than the notifications
-- themselves, and only for messages that mention someone.
CREATE INDEX notifications_mentions ON notifications (user_id, room_id, seq)
    WHERE kind = 'mentioned';
