-- Added after the bulk load: checked once over the whole table, much faster than per row.
ALTER TABLE reservations ADD CONSTRAINT reservations_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE reserved_seats ADD CONSTRAINT reserved_seats_reservation_fk FOREIGN KEY (reservation_id) REFERENCES reservations (id);
ALTER TABLE payments ADD CONSTRAINT payments_reservation_fk FOREIGN KEY (reservation_id) REFERENCES reservations (id);
CREATE INDEX users_updated_at ON users (updated_at, id);
CREATE INDEX reservations_updated_at ON reservations (updated_at, id);
CREATE INDEX reservations_user ON reservations (user_id);
CREATE INDEX reserved_seats_reservation ON reserved_seats (reservation_id);
CREATE INDEX reserved_seats_updated_at ON reserved_seats (updated_at, id);
CREATE INDEX payments_updated_at ON payments (updated_at, id);
ANALYZE;
