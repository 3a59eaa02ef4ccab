-- +goose Up
INSERT INTO formulas (name, type, level, price, hours_per_month, max_students, features, updated_at) VALUES
    ('Groupe Réussite', 'group', 'terminale', 180, 8, 6, '["Groupes de 6 élèves maximum","Mathématiques et physique","Suivi mensuel des progrès"]', 0),
    ('Combo Révision', 'intensive', 'terminale', 290, 12, 6, '["Stage intensif avant le bac","Annales corrigées","Examens blancs"]', 0),
    ('Grand Oral', 'workshop', 'terminale', 390, 6, 4, '["Préparation au Grand Oral","Simulations filmées","Coaching prise de parole"]', 0),
    ('Duo Sciences', 'individual', 'première', 400, 8, 2, '["Cours en binôme","Mathématiques et physique-chimie","Accès ARIA inclus"]', 0);

-- +goose Down
DELETE FROM formulas WHERE name IN ('Groupe Réussite', 'Combo Révision', 'Grand Oral', 'Duo Sciences');
