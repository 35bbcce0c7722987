-- +goose Up
-- "Near me" and the map narrow places to a box of latitudes and
-- longitudes before the exact distance is worked out (store.AreaWhere).
CREATE INDEX places_position_idx ON places (latitude, longitude);

-- +goose Down
DROP INDEX places_position_idx;
