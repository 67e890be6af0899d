INSERT INTO sprints (id, study, cluster, state, directory, created_at)
	VALUES ('sp-000002', 'demo', 'local', 'running', '/d', 't');
