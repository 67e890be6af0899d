INSERT INTO sprints (id, study, cluster, state, directory, created_at)
	VALUES ('sp-000003', 'demo', 'local', 'cached', '/d', 't');
