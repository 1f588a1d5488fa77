-- Seed for benches/search/run.sh.
-- 20 rooms x 10,000 messages (200,000), lin member of 10 rooms; Chinese and English text.
INSERT INTO users (id, display_name) VALUES ('lin@andon.test', '林志明') ON CONFLICT DO NOTHING;
INSERT INTO rooms (id, title, incident_type, severity, created_by)
SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, 'Room ' || i, 'equipment_failure', 'high', 'lin@andon.test'
FROM generate_series(1, 20) i;
INSERT INTO room_members (room_id, user_id, role, added_by)
SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, 'lin@andon.test', CASE WHEN i = 1 THEN 'owner' ELSE 'editor' END, 'lin@andon.test'
FROM generate_series(1, 10) i;
INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type, content, client_id, created_at)
SELECT gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad(r::text, 12, '0'))::uuid, s, 'lin@andon.test', '林志明', 'text',
       (ARRAY['三號線馬達過熱停機，已通知保全','Conveyor belt slipping at station ' || s,'換模完成，等待首件檢驗','Pressure reading ' || s || ' bar, within limits','物料短缺：PCB 批號 A-' || s])[1 + (s % 5)],
       'c' || s, now() - make_interval(secs => (200000 - (r * 10000 + s)))
FROM generate_series(1, 20) r, generate_series(1, 10000) s;
ANALYZE messages;
