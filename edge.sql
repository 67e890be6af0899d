UPDATE sprints SET state = 'running';
